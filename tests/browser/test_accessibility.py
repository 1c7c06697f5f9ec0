"""WCAG 2.1 A and AA in Chromium, read by axe-core (the PyPI package axe-playwright-python carries axe.min.js): every
page of the app at a phone's width (390 px) and a wide window (1500 px), and the guided path's eleven steps; then the
keyboard: every control of a page can be reached with Tab.

A violation in Streamlit's own markup, which the app cannot change, is excluded by rule and element in STREAMLIT_OWN
(the one place), and listed in README.md with its upstream issue; anything else fails the test with the rule, the
element and axe's own words.
"""
from __future__ import annotations

import pytest

from tests.support.figure_lint import lint
from tests.support.server import needs_chromium
from tests.support.walk import new_session, resize, runs, settle, wait_idle

needs_chromium()

from axe_playwright_python.base import AXE_SCRIPT  # noqa: E402  (after the skip: a machine without it skips)

WCAG21_AA = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
PHONE, TABLET, WIDE = 390, 1024, 1500
PATHS = ["explore", "interpolate", "generate", "elbo", "reparameterisation", "posterior", "gaps", "rate_distortion",
         "draw", "train", "models", "class", "lesson"]  # app.py's st.navigation, in its order; the guided path (/) below
LEARN_STEPS = range(1, 12)

# Streamlit's own markup, which no setting of the app reaches: rule id → the elements of Streamlit's it is excused on
# (a CSS selector; a node matching it, or inside one, is excused). Each is in README.md ("Accessibility") with its
# upstream issue. Nothing else is excused.
STREAMLIT_OWN = {
    # st.navigation's sidebar with sections: <ul> holds a <div> per section (its <header> and its <li>s), so the
    # <li>s are not children of the list and the list has children that are not <li>.
    "list": "[data-testid=stSidebarNavItems]",
    "listitem": "[data-testid=stSidebarNavItems]",
}

AXE_RUN_JS = """async ([tags]) => {
  const result = await axe.run(document, {runOnly: {type: 'tag', values: tags}, resultTypes: ['violations']});
  return result.violations.map(v => ({id: v.id, impact: v.impact, help: v.help,
    nodes: v.nodes.map(n => ({target: n.target.flat().join(' >>> '), summary: n.failureSummary || '',
                              html: n.html.slice(0, 160)}))}));
}"""

EXCUSED_JS = """([target, selector]) => {  // the node (through shadow roots) matches `selector` or sits inside a match
  let node = document;
  for (const part of target.split(' >>> ')) { node = (node.shadowRoot || node).querySelector(part); if (!node) return false; }
  for (let el = node; el; el = el.parentElement || (el.getRootNode() && el.getRootNode().host))
    if (el.matches && el.matches(selector)) return true;
  return false;
}"""


def violations(page) -> list[str]:
    """axe-core's WCAG 2.1 A/AA violations on the page as drawn now, one line per rule and element, less
    STREAMLIT_OWN's."""
    if not page.evaluate("() => typeof axe !== 'undefined'"):
        page.evaluate(AXE_SCRIPT)
    found = []
    for rule in page.evaluate(AXE_RUN_JS, [WCAG21_AA]):
        for node in rule["nodes"]:
            excused = STREAMLIT_OWN.get(rule["id"])
            if excused and page.evaluate(EXCUSED_JS, [node["target"], excused]):
                continue
            summary = " ".join(node["summary"].split())[:300]
            found.append(f"{rule['id']} ({rule['impact']}): {node['target']}: {summary} | {node['html']}")
    return found


REACHED_JS = """() => {  // from now on, every element the keyboard focus enters is noted, inside shadow roots too
  window.__reached = new WeakSet();  // (a move inside one shadow root is not told to the document: each root listens)
  const note = e => { for (const el of e.composedPath()) if (el.nodeType === 1) window.__reached.add(el); };
  const listen = root => { root.addEventListener('focusin', note, true);
    for (const el of root.querySelectorAll('*')) if (el.shadowRoot) listen(el.shadowRoot); };
  listen(document);
}"""

UNREACHED_JS = """() => {  // the visible controls of the main area and the sidebar that the focus has not entered
  const CONTROL = 'a[href], button, input:not([type=hidden]), select, textarea, [role=slider], [role=combobox], '
    + '[role=button], [role=link], [role=tab], [role=checkbox], [role=switch], [tabindex]';
  const all = [];
  const walk = root => { for (const el of root.querySelectorAll('*')) {
    if (el.matches(CONTROL)) all.push(el);
    if (el.shadowRoot) walk(el.shadowRoot);
  } };
  for (const root of document.querySelectorAll('[data-testid=stMain], [data-testid=stSidebar]')) walk(root);
  const shown = el => el.getClientRects().length && getComputedStyle(el).visibility !== 'hidden'
    && !el.closest('[inert], [aria-hidden=true]') && !el.disabled && el.getAttribute('aria-disabled') !== 'true'
    && el.getAttribute('tabindex') !== '-1';
  const reached = el => window.__reached.has(el) || (el.type === 'radio' && el.name
    && [...document.getElementsByName(el.name)].some(r => window.__reached.has(r)));  // a group: one stop, arrows
  return all.filter(shown).filter(el => !reached(el)).map(el => {
    const name = (el.getAttribute('aria-label') || el.innerText || el.value || el.name || '').trim().slice(0, 40);
    return `${el.tagName.toLowerCase()}${el.getAttribute('role') ? '[role=' + el.getAttribute('role') + ']' : ''} "${name}"`;
  });
}"""


def unreached_by_tab(page, most: int = 400) -> list[str]:
    """Press Tab from the top of the page, as a keyboard user does, until every visible control of the main area
    and the sidebar has had the focus (or `most` presses): the controls it never reached."""
    page.evaluate(REACHED_JS)
    page.evaluate("() => { document.activeElement && document.activeElement.blur(); window.scrollTo(0, 0); }")
    left = page.evaluate(UNREACHED_JS)
    presses = 0
    while left and presses < most:
        for _ in range(10):
            page.keyboard.press("Tab")
        presses += 10
        left = page.evaluate(UNREACHED_JS)
    return left


def open_by_link(page, path: str) -> None:
    """The page at `path` by its link in the sidebar navigation (the same session: no page load); at a phone's width,
    where the sidebar is folded away, by the link's own click() (as the unfolded sidebar's link would)."""
    before = runs(page)
    link = page.get_by_test_id("stSidebarNav").locator(f"a[href$='/{path}']").first
    if page.viewport_size["width"] == PHONE:
        link.evaluate("a => a.click()")
    else:
        link.click()
    wait_idle(page, since=before, timeout=60)


def test_every_page_passes_axe_at_two_widths_reads_at_a_phones_and_the_keyboard_reaches_every_control(browser, server):
    """Each page (but the guided path's, below) opened from the one before by its sidebar link, on the default model:
    at 1500 px axe and Tab from the top until every control has had the focus; then at 390 px axe and the figure
    lint (WCAG 1.4.10, reflow: nothing cut, overlapping or wider than its column; 1500 and 1024 px are read by
    test_journeys). One pass a width: each resize reflows every chart of the page."""
    found, unreached, unread = [], [], []
    with new_session(browser, f"{server}/{PATHS[0]}", timeout=90) as page:
        for n, path in enumerate(PATHS):
            if n:
                open_by_link(page, path)
            settle(page)
            found += [f"/{path} @{WIDE}px: {v}" for v in violations(page)]
            unreached += [f"/{path}: {c}" for c in unreached_by_tab(page)]
        resize(page, PHONE)
        for n, path in enumerate(reversed(PATHS)):
            if n:
                open_by_link(page, path)
            settle(page)
            found += [f"/{path} @{PHONE}px: {v}" for v in violations(page)]
            unread += [f"/{path} @{PHONE}px: {p}" for p in lint(page)]
    assert not found, f"{len(found)} violations:\n" + "\n".join(found)
    assert not unread, "at a phone's width:\n" + "\n".join(unread)
    assert not unreached, "not reached by Tab:\n" + "\n".join(unreached)


def predict_and_reveal(page) -> None:
    """The step's question answered (its first option), locked in and revealed: what a step shows only then (its
    numbers, the answer) is read too."""
    import re

    if page.get_by_role("button", name=re.compile("Train a 2-D model")).count():
        before = runs(page)
        page.get_by_role("button", name=re.compile("Train a 2-D model")).click()
        wait_idle(page, since=before, timeout=120)
    radio = page.get_by_test_id("stRadio").filter(has_text="Your prediction")
    if not radio.count():
        return
    radio.locator("label").nth(1).click()  # the first option (the first label is the group's)
    wait_idle(page, timeout=60)
    before = runs(page)
    page.get_by_role("button", name="Lock in my prediction").click()
    wait_idle(page, since=before, timeout=60)
    before = runs(page)
    page.get_by_text("Reveal the answer").click()
    wait_idle(page, since=before, timeout=60)


@pytest.mark.parametrize("model, widths", [("mnist-16d-sigma0.3", (WIDE, TABLET, PHONE))])
def test_the_guided_paths_steps_pass_axe_and_read_cleanly_at_three_widths(browser, server, model, widths):
    """Each step of the path opened by its link, its question answered and revealed: axe at 1500 and 390 px, the
    figure lint (its equations too: none wider than its column) at 1500, 1024 and 390 px, on the 16-D model, whose
    vectors are the longest rows of the path (one model: the whole walk takes about 40 s of the browser layer)."""
    found = []
    with new_session(browser, timeout=90) as page:
        for step in LEARN_STEPS:
            page.goto(f"{server}/?model={model}&learn_step={step}")
            wait_idle(page, since=0, start_timeout=10, timeout=90)
            predict_and_reveal(page)
            order = widths if step % 2 else widths[::-1]  # one resize fewer a step
            for width in order:
                if page.viewport_size["width"] != width:
                    resize(page, width)
                settle(page)
                if width != TABLET:
                    found += [f"step {step} @{width}px: {v}" for v in violations(page)]
                found += [f"step {step} @{width}px: {p}" for p in lint(page)]
    assert not found, f"{len(found)} problems:\n" + "\n".join(found)


def test_creating_a_model_moves_the_focus_to_its_play_pause_control(browser, server):
    """Create model's form goes away with its button: the focus fell back to the page's start, and a keyboard user
    had to Tab through the sidebar again to reach Play (ui/focus.move_focus)."""
    with new_session(browser, f"{server}/train?train_latent=2&train_size=2%2C000", timeout=90) as page:
        button = page.get_by_role("button", name="Create model")
        button.focus()
        before = runs(page)
        page.keyboard.press("Enter")
        wait_idle(page, since=before, timeout=120)
        page.locator(".st-key-live_mode").wait_for()
        page.wait_for_function("() => document.activeElement && document.activeElement.closest('.st-key-live_mode')",
                               timeout=10_000)
        assert page.evaluate("() => document.activeElement.innerText").strip().endswith("Play")
        stop = page.get_by_role("button", name="Stop")  # end the run: no training left behind
        before = runs(page)
        stop.click()
        wait_idle(page, since=before, timeout=60)


def test_train_live_paused_in_slow_motion_with_its_timeline_and_pad_passes_axe_and_the_keyboard(browser, server):
    """What Train live shows only with a run: the slow-motion step, the timeline's scrubber and replay, the cloud and
    the decoder's map, the pad on the live decoder. axe and Tab at 1500 px, axe and the figure lint at 390 px."""
    import re

    found, unread = [], []
    link = f"{server}/train?train_latent=2&train_size=2%2C000&train_steps=40&train_at=10"
    with new_session(browser, link, timeout=120) as page:
        page.get_by_text("Timeline:").wait_for(timeout=120_000)
        before = runs(page)
        page.get_by_role("button", name=re.compile(r"\bStep$")).click()
        page.get_by_text("Slow motion: step").wait_for(timeout=60_000)
        wait_idle(page, since=before, timeout=60)
        page.get_by_text("Drag z through the decoder as it trains").click()
        page.locator("canvas.pad").wait_for(timeout=60_000)
        settle(page)
        found += [f"@{WIDE}px: {v}" for v in violations(page)]
        unreached = unreached_by_tab(page)
        resize(page, PHONE)
        settle(page)
        found += [f"@{PHONE}px: {v}" for v in violations(page)]
        unread += [f"@{PHONE}px: {p}" for p in lint(page)]
        before = runs(page)
        page.get_by_role("button", name="Stop").click()  # end the run: no training left behind
        wait_idle(page, since=before, timeout=60)
    assert not found, f"{len(found)} violations:\n" + "\n".join(found)
    assert not unread, "at a phone's width:\n" + "\n".join(unread)
    assert not unreached, "not reached by Tab:\n" + "\n".join(unreached)
