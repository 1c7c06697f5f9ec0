"""Walks through the app as a user would, with generic checks after every step.

Nothing here knows the app's widget keys: pages are reached through the sidebar navigation, the model
and dataset through the sidebar's "Model" selectbox and "Dataset" radio, and the checks look only at
what a user sees (an exception box, a heading, a figure). So the walks keep working when the app's
internals are refactored, and they catch what breaks between pages rather than on one page.

    with new_session(browser, url) as page:   # a new tab: idle tracking, uncaught JS errors, opened at url
        goto_page(page, "ELBO decomposition"); check(page, step="open ELBO")

Idle: `watch` follows the app element's `data-test-script-state` attribute (Streamlit's own signal, the one its
end-to-end tests wait on) and notes DOM mutations; the app is idle when no script runs and nothing has changed
on screen for a moment.
"""
from __future__ import annotations

import re
import time
import weakref
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from playwright.sync_api import TimeoutError as PlaywrightTimeout

VIEWPORT = {"width": 1500, "height": 1600}  # Streamlit scrolls in its own container: a tall page shows more

# Streamlit's own signal: the app element carries data-test-script-state ("initial", "running", "rerunRequested",
# "notRunning", ...), which its own end-to-end tests wait on. A MutationObserver counts the runs that start.
WATCH_JS = r"""(() => {
  if (window.__walk) return;
  const w = window.__walk = {running: false, runs: 0, changedAt: performance.now(), mutatedAt: performance.now()};
  const look = () => {
    const app = document.querySelector('[data-testid=stApp]');
    const state = app ? app.getAttribute('data-test-script-state') : 'initial';
    const running = state !== 'notRunning' && state !== 'compilationError';
    if (running && !w.running) w.runs += 1;  // a widget's change shows as rerunRequested at once, then running
    if (running !== w.running) { w.running = running; w.changedAt = performance.now(); }
  };
  new MutationObserver(() => { w.mutatedAt = performance.now(); look(); })
    .observe(document, {subtree: true, childList: true, attributes: true, characterData: true});
})()"""

IDLE_JS = """([quiet]) => { const w = window.__walk; const now = performance.now();
  return w && !w.running && now - w.changedAt > quiet && now - w.mutatedAt > quiet; }"""

SPINNER = "[data-testid=stSpinner]"
_errors: "weakref.WeakKeyDictionary" = weakref.WeakKeyDictionary()


def watch(page) -> None:
    """Install idle tracking and collect uncaught JS errors; call before the page's first goto."""
    _errors[page] = []
    page.add_init_script(WATCH_JS)
    page.on("pageerror", lambda exc: _errors[page].append(str(exc)))


_shared: "weakref.WeakKeyDictionary" = weakref.WeakKeyDictionary()  # browser → its new_session tabs' context


def shared_context(browser):
    """The browser's one context for `new_session` tabs: one person with many tabs (one cookie and localStorage, so one
    browser key; each tab its own sessionStorage). Under Chromium's --process-per-site its tabs share one renderer
    process, which keeps what it compiled of Streamlit's and Plotly's scripts: a tab in a context of its own (a cold
    renderer) cost ~2 core-s more. A test that needs a browser of its own (its own key) makes a context, as
    tests/support/people.Person does."""
    if browser not in _shared or _shared[browser] not in browser.contexts:
        _shared[browser] = browser.new_context(viewport=VIEWPORT)
    return _shared[browser]


@contextmanager
def new_session(browser, url: str | None = None, timeout: float = 20.0):
    """A new tab of the browser's shared context (a new Streamlit session) with `watch` installed, opened at `url`
    and idle; closed after."""
    context = shared_context(browser)
    if url is not None and not context.pages:  # a tab parked on the site: the renderer outlives each test's tab
        parts = urlsplit(url)
        context.new_page().goto(f"{parts.scheme}://{parts.netloc}/_stcore/health")
    page = context.new_page()
    page.set_default_timeout(timeout * 1000)
    watch(page)
    try:
        if url is not None:
            page.goto(url)
            wait_idle(page, since=0, start_timeout=10)
        yield page
    except BaseException as exc:
        exc.add_note(describe(page, "new-session"))
        raise
    finally:
        page.close()


FAILURES = Path(__file__).resolve().parents[2] / "test-artifacts" / "failures"


def describe(page, name: str, limit: int = 1500) -> str:
    """What a tab shows, for a failed test's report (CI prints only text): its address, Streamlit's script state and
    the main area's text; a whole-page screenshot goes to test-artifacts/failures/<name>.png."""
    try:
        FAILURES.mkdir(parents=True, exist_ok=True)
        stem = "".join(c if c.isalnum() or c in "-_" else "_" for c in name)[:100]
        page.screenshot(path=FAILURES / f"{stem}.png", full_page=True, timeout=10_000)
        state, shown = page.evaluate("""() => { const a = document.querySelector('[data-testid=stApp]');
          const m = document.querySelector('[data-testid=stMain]') || document.body;
          return [a && a.getAttribute('data-test-script-state'), m.innerText]; }""")
    except Exception as exc:  # a closed or hung tab: say so
        return f"{page.url}: could not be read ({type(exc).__name__}: {str(exc)[:200]})"
    text = " ".join(shown.split())
    return f"{page.url} (script {state}): {text[:limit]}" + (" …" if len(text) > limit else "")


def page_errors(page) -> list[str]:
    """Uncaught JS errors collected on `page` so far (clear the list to start afresh)."""
    return _errors.setdefault(page, [])


def runs(page) -> int:
    """How many script runs the page has seen start (pass it to wait_idle as `since`)."""
    return page.evaluate("() => window.__walk ? window.__walk.runs : 0")


def wait_idle(page, timeout: float = 30.0, quiet: float = 0.15, since: int | None = None,
              start_timeout: float = 3.0, spinner_timeout: float = 180.0) -> str | None:
    """Wait until no script runs and the screen has been still for `quiet` seconds (0.15, as the monkey has long
    waited: 0.25 cost the tour a sixth of its time).

    `since` (a `runs(page)` taken before an action that certainly reruns): first wait, up to
    `start_timeout`, for a run to have started, so a rerun that is slow to begin is not missed.
    Raises AssertionError when the app is still busy after `timeout` seconds (a rerun loop, a hang),
    or after `spinner_timeout` seconds if it shows a spinner (it said it is working: a t-SNE, say).
    Returns the spinner's text when it waited past `timeout` behind one, else None.
    """
    if since is not None:
        try:
            page.wait_for_function("(n) => window.__walk && window.__walk.runs > n", arg=since,
                                   timeout=start_timeout * 1000, polling=50)
        except PlaywrightTimeout:
            pass
    start, spinner = time.monotonic(), None
    while True:
        try:
            page.wait_for_function(IDLE_JS, arg=[quiet * 1000], timeout=timeout * 1000, polling=50)
            return spinner
        except PlaywrightTimeout:
            waited = time.monotonic() - start
            shown = page.locator(SPINNER).all_inner_texts()
            if not shown or waited >= spinner_timeout:
                break
            spinner = " ".join(shown[0].split())
    running = page.evaluate("() => window.__walk && window.__walk.running")
    raise AssertionError(f"the app was still busy after {waited:.0f} s ("
                         + ("a script run had not ended)" if running else "the screen kept changing)"))


PAINTED_JS = """async () => {  // every image of the main area decoded (<img>, and the <image> inside charts)
  const main = document.querySelector('[data-testid=stMain]');
  if (!main) return false;
  const source = i => i.getAttribute('href') || i.getAttribute('xlink:href') || (i.href && i.href.baseVal) || '';
  const charts = [...main.querySelectorAll('.js-plotly-plot')];
  // a chart's layout images get their <image> elements (and sources) after the chart itself is drawn
  for (let tries = 0; tries < 200 && !charts.every(gd => !gd._fullLayout
       || (gd._fullLayout.images || []).filter(im => im.visible !== false).length
          <= [...gd.querySelectorAll('svg image')].filter(source).length); tries++)  // at most 10 s
    await new Promise(r => setTimeout(r, 50));
  const sources = [...main.querySelectorAll('img')].map(i => i.src)
    .concat([...main.querySelectorAll('svg image')].map(source)).filter(Boolean);
  await Promise.all(sources.map(src => { const im = new Image(); im.src = src; return im.decode().catch(() => null); }));
  await new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)));  // and painted
  return true;
}"""


def settle(page, timeout: float = 60.0, since: int | None = None) -> None:
    """Wait until the app is idle (wait_idle) and every image on the page, in charts too, is decoded and painted:
    what a screenshot or a reading of the page needs, instead of a fixed sleep."""
    wait_idle(page, timeout=timeout, since=since)
    page.evaluate(PAINTED_JS)


FITTED_JS = """() => [...document.querySelectorAll('[data-testid=stMain] [data-testid=stPlotlyChart], '
    + '[data-testid=stMain] [data-testid=stVegaLiteChart]')].every(chart => {
  const column = chart.closest('[data-testid=stColumn]') || chart.closest('[data-testid=stMainBlockContainer]');
  const limit = column.getBoundingClientRect().right;
  return [...chart.querySelectorAll('canvas, svg.main-svg, .vega-embed svg')]
    .every(d => !d.getBoundingClientRect().width || d.getBoundingClientRect().right <= limit + 2);
})"""


def resize(page, width: int, height: int = VIEWPORT["height"], timeout: float = 5.0) -> None:
    """Set the window's size, then wait (at most `timeout` s) until the charts have reflowed into their columns
    (Plotly and Vega resize after a debounce, which a loaded machine stretches) and the page is settled. A chart that
    never fits is left for the figure lint to report."""
    page.set_viewport_size({"width": width, "height": height})
    try:
        page.wait_for_function(FITTED_JS, timeout=timeout * 1000, polling=100)
    except PlaywrightTimeout:
        pass
    settle(page)


# ---------------------------------------------------------------------------------------------- actions

def sidebar(page):
    return page.get_by_test_id("stSidebar")


def _title(text: str) -> str:
    return text.strip().splitlines()[-1].strip()  # a nav link's text: its icon's name, then the title


def current_page(page) -> str:
    """The title of the page the sidebar navigation marks as current."""
    texts = sidebar(page).locator("[data-testid=stSidebarNavLink][aria-current=page]").all_inner_texts()
    return _title(texts[0]) if texts else ""


def page_titles(page) -> list[str]:
    """The titles in the sidebar navigation, in its order."""
    return [_title(t) for t in sidebar(page).get_by_test_id("stSidebarNav").get_by_role("link").all_inner_texts()]


def goto_page(page, title: str, timeout: float = 30.0) -> None:
    """Open a page by clicking its link in the sidebar navigation; waits for the app to be idle."""
    before = runs(page)
    links = sidebar(page).get_by_test_id("stSidebarNav").get_by_role("link")
    links.filter(has_text=re.compile(rf"{re.escape(title)}\s*$")).first.click()  # the icon's name comes first
    wait_idle(page, since=before, timeout=timeout)


def model_box(page):
    return sidebar(page).get_by_role("combobox", name="Model")


def sidebar_model(page) -> str:
    """The model name the sidebar's Model selectbox shows (its label's first word)."""
    value = model_box(page).input_value().strip()
    return value.split()[0] if value else ""


def option(page, text: str):
    """The open listbox's option whose label starts with `text` as a whole word."""
    return page.get_by_role("option").filter(has_text=re.compile(rf"^\s*{re.escape(text)}(\s|$)")).first


def choose_model(page, name: str) -> None:
    """Pick the model `name` in the sidebar's Model selectbox; waits for the app to be idle."""
    before = runs(page)
    model_box(page).click()
    option(page, name).click()
    wait_idle(page, since=before)


def dataset_group(page):
    return sidebar(page).get_by_role("radiogroup", name="Dataset")


def sidebar_dataset(page) -> str:
    """The label of the sidebar's checked Dataset option."""
    return dataset_group(page).locator("label:has(input:checked)").inner_text().strip()


def choose_dataset(page, label: str) -> None:
    """Click the sidebar's Dataset option `label` (e.g. "Fashion-MNIST"); waits for idle."""
    before = runs(page)
    dataset_group(page).locator("label").filter(has_text=re.compile(f"^\\s*{re.escape(label)}\\s*$")).click()
    wait_idle(page, since=before)


SCATTER = ".js-plotly-plot .scattergl, .js-plotly-plot canvas"

POINT_ON_SCREEN = """([plotIndex, curve, index]) => {
  const gd = document.querySelectorAll('.js-plotly-plot')[plotIndex];
  gd.scrollIntoView({block: 'center'});
  const xa = gd._fullLayout.xaxis, ya = gd._fullLayout.yaxis;
  const trace = gd._fullData[curve];
  const box = gd.getBoundingClientRect();
  return [box.left + xa._offset + xa.l2p(trace.x[index]), box.top + ya._offset + ya.l2p(trace.y[index])];
}"""


def click_point(page, curve: int, index: int, plot_index: int = 0) -> None:
    """Click the `index`-th point of trace `curve` of the `plot_index`-th Plotly chart on the page."""
    x, y = page.evaluate(POINT_ON_SCREEN, [plot_index, curve, index])
    page.mouse.click(x, y)


def draw_a_seven(page) -> None:
    """On the Draw page's canvas, a "7": a bar along the top, then a long diagonal down to the left."""
    canvas = page.locator("canvas.ink")
    canvas.wait_for()
    box = canvas.bounding_box()
    page.mouse.move(box["x"] + 70, box["y"] + 60)
    page.mouse.down()
    for i in range(1, 21):
        page.mouse.move(box["x"] + 70 + 7 * i, box["y"] + 60, steps=2)
    for i in range(1, 26):
        page.mouse.move(box["x"] + 210 - 4 * i, box["y"] + 60 + 7 * i, steps=2)
    page.mouse.up()


STEP_JS = """() => { const m = [...document.querySelectorAll('[data-testid=stMetric]')]
    .find(e => e.innerText.startsWith('Step')); return m ? parseInt(m.innerText.replace(/[^0-9]/g, '')) : -1; }"""


def step_count(page) -> int:
    """Train live's Step counter as the page shows it (redrawn every 2 s while training); −1 where there is none."""
    return page.evaluate(STEP_JS)


def wait_for_steps_beyond(page, n: int, timeout: float = 60.0, polling="raf") -> int:
    """Wait until the page shows more than `n` steps; the count it shows then. `polling`: Playwright's (every
    animation frame, or every so many ms)."""
    page.wait_for_function(f"(n) => ({STEP_JS})() > n", arg=n, polling=polling, timeout=timeout * 1000)
    return step_count(page)


# ----------------------------------------------------------------------------------------------- checks

@dataclass(frozen=True)
class Expect:
    """What a page must show once it has drawn.

    figure: it draws a figure (a Plotly chart, an image, a canvas, a Vega chart, or `extra`).
    instead: texts that legitimately replace the figure (an st.info saying why there is none).
    model_dependent: its content changes with the sidebar's model.
    """
    figure: bool = True
    instead: tuple[str, ...] = ()
    extra: str = ""
    model_dependent: bool = True


PAGES = {
    "Explore the latent space": Expect(),
    "Interpolate": Expect(),
    "Generate": Expect(),
    "ELBO decomposition": Expect(instead=("Bernoulli decoder",)),
    "The reparameterisation": Expect(),
    "True posterior vs q": Expect(instead=("needs a 2-D model",)),
    "Why q misses: two gaps": Expect(instead=("has no meaning",)),  # a Bernoulli model trained on grey levels
    "Rate–distortion": Expect(model_dependent=False),
    "Draw your own": Expect(instead=("Draw on the black square.",), model_dependent=False),  # until one draws
    "Train live": Expect(figure=False, model_dependent=False),
    "Models": Expect(extra="[data-testid=stDataFrame]", model_dependent=False),
    "Class": Expect(figure=False, model_dependent=False),
    "The VAE, step by step": Expect(figure=False),
    "Lessons": Expect(figure=False, model_dependent=False),
}
FIGURE = ("[data-testid=stMain] .js-plotly-plot, [data-testid=stMain] [data-testid=stImage] img, "
          "[data-testid=stMain] canvas, [data-testid=stMain] [data-testid=stVegaLiteChart]")
HEADING = "[data-testid=stMain] h1, [data-testid=stMain] h2"


def _exception_text(page) -> str | None:
    boxes = page.locator("[data-testid=stException]")
    if not boxes.count():
        return None
    text = " ".join(boxes.first.inner_text().split())
    return re.sub(r"\s*Copy Ask Google Ask ChatGPT$", "", text)[:400]  # the box's buttons


def _drew(page, expect: Expect) -> str | None:
    """None when the page drew what `expect` asks for, else what is missing."""
    if not page.locator(HEADING).count():
        return "no heading in the main area"
    if not expect.figure:
        return None
    if page.locator(FIGURE + (", " + expect.extra if expect.extra else "")).count():
        return None
    main = page.get_by_test_id("stMain")
    if any(main.get_by_text(text, exact=False).count() for text in expect.instead):
        return None
    return "no figure drawn" + (f" (nor any of {list(expect.instead)})" if expect.instead else "")


def check(page, expect_model: str | None = None, expect_dataset: str | None = None, step: str = "",
          timeout: float = 10.0) -> None:
    """Assert the page is healthy; the AssertionError names `step`.

    Healthy: no exception box and no uncaught JS error; a heading and (per PAGES) a figure or the text
    that stands in for it, waited for up to `timeout` s (charts draw after the script ends); the sidebar
    shows `expect_model` / `expect_dataset` when given.
    """
    where = f"[{step}] " if step else ""
    title = current_page(page)
    expect = PAGES.get(title, Expect(figure=False))
    end = time.monotonic() + timeout
    while True:
        exception = _exception_text(page)
        if exception:
            raise AssertionError(f"{where}exception on '{title}': {exception}")
        if page_errors(page):
            raise AssertionError(f"{where}uncaught JS error on '{title}': {page_errors(page)[0][:300]}")
        missing = _drew(page, expect)
        if missing is None:
            break
        if time.monotonic() > end:
            raise AssertionError(f"{where}'{title}' did not draw: {missing}")
        page.wait_for_timeout(200)
    if expect_model is not None and sidebar_model(page) != expect_model:
        raise AssertionError(f"{where}sidebar shows model '{sidebar_model(page)}', expected '{expect_model}' "
                             f"(on '{title}')")
    if expect_dataset is not None and sidebar_dataset(page) != expect_dataset:
        raise AssertionError(f"{where}sidebar shows dataset '{sidebar_dataset(page)}', expected "
                             f"'{expect_dataset}' (on '{title}')")


FINGERPRINT_JS = """() => {
  const main = document.querySelector('[data-testid=stMain]');
  const plots = [...main.querySelectorAll('.js-plotly-plot')].map(gd => (gd.data || []).map(t =>
      JSON.stringify([t.x && Array.from(t.x).slice(0, 20), t.y && Array.from(t.y).slice(0, 20), t.z && String(t.z).slice(0, 200)])).join());
  const images = [...main.querySelectorAll('img')].map(i => i.src);
  const metrics = [...main.querySelectorAll('[data-testid=stMetricValue]')].map(m => m.innerText);
  return JSON.stringify([plots, images, metrics]);
}"""


def fingerprint(page) -> str:
    """A digest of what the main area shows (chart data, image sources, metric values)."""
    return page.evaluate(FINGERPRINT_JS)
