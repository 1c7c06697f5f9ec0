"""Walks through the app as a user would, with generic checks after every step.

Nothing here knows the app's widget keys: pages are reached through the sidebar navigation, the model
and dataset through the sidebar's "Model" selectbox and "Dataset" radio, and the checks look only at
what a user sees (an exception box, a heading, a figure). So the walks keep working when the app's
internals are refactored, and they catch what breaks between pages rather than on one page.

    with new_session(browser, url) as page:   # a new tab: idle tracking, uncaught JS errors, opened at url
        goto_page(page, "ELBO decomposition"); check(page, step="open ELBO")
        Monkey(page, seed=7).run(200)     # random actions, a check after each; replay with the same seed

Idle: the app has no reliable "running" element on screen (the status widget shows only after half a
second, and not at all in the minimal toolbar), so `watch` reads Streamlit's own `session_status_changed`
messages off the websocket (ForwardMsg field 9, SessionStatus.script_is_running) and notes DOM mutations;
the app is idle when no script runs and nothing has changed on screen for a moment.
"""
from __future__ import annotations

import random
import re
import time
import weakref
from contextlib import contextmanager
from dataclasses import dataclass

from playwright.sync_api import Error as PlaywrightError
from playwright.sync_api import TimeoutError as PlaywrightTimeout

VIEWPORT = {"width": 1500, "height": 1600}  # Streamlit scrolls in its own container: a tall page shows more

# ForwardMsg.session_status_changed = 9, SessionStatus.script_is_running = 2 (streamlit/proto).
WATCH_JS = r"""(() => {
  if (window.__walk) return;
  const w = window.__walk = {running: false, runs: 0, changedAt: performance.now(), mutatedAt: performance.now()};
  const varint = (b, i) => { let v = 0, s = 1, x; do { x = b[i++]; v += (x & 0x7f) * s; s *= 128; } while (x & 0x80); return [v, i]; };
  const fields = (b) => {  // the top-level fields of one protobuf message: [[number, value], ...]
    const out = []; let i = 0;
    while (i < b.length) {
      let tag, v; [tag, i] = varint(b, i);
      const wire = tag & 7;
      if (wire === 0) { [v, i] = varint(b, i); out.push([Math.floor(tag / 8), v]); }
      else if (wire === 2) { [v, i] = varint(b, i); out.push([Math.floor(tag / 8), b.subarray(i, i + v)]); i += v; }
      else if (wire === 1) i += 8; else if (wire === 5) i += 4; else break;
    }
    return out;
  };
  const onMessage = (bytes) => {
    for (const [num, value] of fields(bytes)) {
      if (num !== 9) continue;
      const running = fields(value).some(([n, v]) => n === 2 && v === 1);
      if (running && !w.running) w.runs += 1;
      w.running = running; w.changedAt = performance.now();
    }
  };
  const Native = window.WebSocket;
  window.WebSocket = class extends Native {
    constructor(...args) {
      super(...args);
      this.addEventListener('message', (e) => {
        if (e.data instanceof ArrayBuffer) onMessage(new Uint8Array(e.data));
        else if (e.data instanceof Blob) e.data.arrayBuffer().then(b => onMessage(new Uint8Array(b)));
      });
    }
  };
  new MutationObserver(() => { w.mutatedAt = performance.now(); })
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


@contextmanager
def new_session(browser, url: str | None = None, timeout: float = 20.0):
    """A new browser tab (a new Streamlit session) with `watch` installed, opened at `url` and idle; closed after."""
    page = browser.new_page(viewport=VIEWPORT)
    page.set_default_timeout(timeout * 1000)
    watch(page)
    try:
        if url is not None:
            page.goto(url)
            wait_idle(page, since=0, start_timeout=10)
        yield page
    finally:
        page.close()


def page_errors(page) -> list[str]:
    """Uncaught JS errors collected on `page` so far (clear the list to start afresh)."""
    return _errors.setdefault(page, [])


def runs(page) -> int:
    """How many script runs the page has seen start (pass it to wait_idle as `since`)."""
    return page.evaluate("() => window.__walk ? window.__walk.runs : 0")


def wait_idle(page, timeout: float = 30.0, quiet: float = 0.25, since: int | None = None,
              start_timeout: float = 3.0, spinner_timeout: float = 180.0) -> str | None:
    """Wait until no script runs and the screen has been still for `quiet` seconds.

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


def _option(page, text: str):
    """The open listbox's option whose label starts with `text` as a whole word."""
    return page.get_by_role("option").filter(has_text=re.compile(rf"^\s*{re.escape(text)}(\s|$)")).first


def choose_model(page, name: str) -> None:
    """Pick the model `name` in the sidebar's Model selectbox; waits for the app to be idle."""
    before = runs(page)
    model_box(page).click()
    _option(page, name).click()
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


# ----------------------------------------------------------------------------------------------- monkey

# Streamlit's buttons (not Plotly's modebar), and the options of segmented controls (the Train page's Play / Pause)
APP_BUTTONS = "[data-testid^=stBaseButton-]:not([data-testid=stBaseButton-elementToolbar]), [data-testid=stButtonGroup] button"
NOT_CLICKED = re.compile(r"delete|download|browse|upload|fullscreen|full screen", re.I)  # Monkey's `avoid`
TRAIN_BUTTONS = re.compile(r"(^|\s)(Create model|Play|Pause|Step)$")  # the text ends with it (an icon's name first)
NUMBERS = ("-1", "0", "1", "2", "5", "7", "12", "3.5", "-0.5", "64", "65", "100", "1999", "2000", "999999", "1e9")
KEYS = ("ArrowLeft", "ArrowRight", "Home", "End", "PageUp", "PageDown")

VISIBLE_POINT_JS = """([which, u, v, empty]) => {
  const plots = [...document.querySelectorAll('[data-testid=stMain] .js-plotly-plot')]
    .filter(gd => gd._fullLayout && gd._fullLayout.xaxis && gd.getBoundingClientRect().width > 0);
  if (!plots.length) return null;
  const gd = plots[Math.floor(which * plots.length)];
  gd.scrollIntoView({block: 'center'});
  const xa = gd._fullLayout.xaxis, ya = gd._fullLayout.yaxis, box = gd.getBoundingClientRect();
  if (empty) return [box.left + xa._offset + u * xa._length, box.top + ya._offset + v * ya._length, 'empty space'];
  const traces = gd._fullData.filter(t => t.visible === true && t.x && t.y && t.x.length && typeof t.x[0] === 'number');
  if (!traces.length) return null;
  const t = traces[Math.floor(u * traces.length)], i = Math.floor(v * t.x.length);
  const x = box.left + xa._offset + xa.l2p(t.x[i]), y = box.top + ya._offset + ya.l2p(t.y[i]);
  return Number.isFinite(x) && Number.isFinite(y) ? [x, y, `trace '${t.name || t.index}' point ${i}`] : null;
}"""


VISIBLE_JS = """els => els.map(e => { const r = e.getBoundingClientRect();
  return r.width > 0 && r.height > 0 && getComputedStyle(e).visibility !== 'hidden'; })"""
MAY_CHANGE_MODEL = ("dataset", "button", "train")  # actions after which the sidebar may show another model
LABEL_JS = """e => e.getAttribute('aria-label') || (e.tagName === 'INPUT' && e.closest('[data-testid^=st]')
  ?.querySelector('[data-testid=stWidgetLabel]')?.innerText) || e.innerText || e.className || e.tagName"""


class Monkey:
    """Seeded random user: random actions on whatever is visible, `check` after each.

    `Monkey(page, seed).run(n)` on a page opened at the app's root replays a run: the same seed takes
    the same choices as long as the app shows the same things. A failed check raises AssertionError
    naming the seed, the step and the last actions. `avoid`: a pattern of button and option labels it
    never clicks (destructive ones, downloads, uploads; a time-boxed run may add slow ones).
    """
    WEIGHTS = {"navigate": 6, "model": 4, "dataset": 1, "slider": 5, "number": 4, "choice": 4, "scatter": 4,
               "drag": 3, "expander": 1, "train": 2, "button": 2}

    def __init__(self, page, seed: int, timeout: float = 30.0, quiet: float = 0.15, avoid=NOT_CLICKED, log=print):
        self.page, self.seed, self.timeout, self.quiet, self.avoid = page, seed, timeout, quiet, avoid
        self.rng = random.Random(seed)
        self.actions: list[str] = []
        self.step = 0
        self.model: str | None = None  # the model the sidebar should show
        self.seconds: dict[str, float] = {}  # per kind of action, with the waits and checks that follow it
        self.counts: dict[str, int] = {}
        self.slow: list[str] = []  # steps that kept the app busy past `timeout`, behind a spinner
        log(f"Monkey seed={seed}")

    def run(self, n: int) -> None:
        """Take `n` more actions (each followed by wait_idle and check)."""
        for _ in range(n):
            self.step += 1
            self.act()

    def act(self) -> None:
        """One random action that applies to what is on screen, then wait_idle and check."""
        where, started = current_page(self.page), time.perf_counter()
        name = "navigate"
        try:
            name, description = self.random_action()
            self.actions.append(f"{self.step}: {description}  (on '{where}')")
            spinner = wait_idle(self.page, timeout=self.timeout, quiet=self.quiet)
            if (took := time.perf_counter() - started) > self.timeout:  # wait_idle allows it behind a spinner
                self.slow.append(f"step {self.step}: {description} (on '{where}') took {took:.0f} s"
                                 + (f", showing '{spinner}'" if spinner else ""))
            check(self.page, expect_model=None if name in MAY_CHANGE_MODEL else self.model, step=self.where)
        except PlaywrightError as exc:  # the page did not let a user do it: an overlay, a vanished element
            self.actions.append(f"{self.step}: {name} on '{where}' failed")
            raise AssertionError(self.report(f"could not {name}: " + str(exc).splitlines()[0])) from None
        except AssertionError as exc:
            raise AssertionError(self.report(str(exc))) from None
        finally:
            self.seconds[name] = self.seconds.get(name, 0.0) + time.perf_counter() - started
            self.counts[name] = self.counts.get(name, 0) + 1
        if name in MAY_CHANGE_MODEL or self.model is None:
            # A button may switch the page and the model ("Open in Explore"): the switch is a second script run,
            # which can begin after a short quiet spell. Read the model once the app has been still a while.
            wait_idle(self.page, timeout=self.timeout, quiet=1.0)
            self.model = sidebar_model(self.page)

    def random_action(self) -> tuple[str, str]:
        """Draw actions until one applies here; (its name, what it did)."""
        names, weights = zip(*self.WEIGHTS.items())
        for _ in range(20):
            name = self.rng.choices(names, weights)[0]
            description = getattr(self, "do_" + name)()
            if description:
                return name, description
        return "navigate", self.do_navigate()

    @property
    def where(self) -> str:
        return f"monkey seed={self.seed} step {self.step}"

    def report(self, message: str) -> str:
        if not message.startswith("["):
            message = f"[{self.where}] {message}"
        return (f"{message}\n  replay: Monkey(page, seed={self.seed}).run({self.step}) from the app's root\n"
                "  last actions:\n    " + "\n    ".join(self.actions[-10:]))

    # -- helpers
    def visible(self, selector, root=None) -> list:
        """The visible elements matching `selector` (a CSS string, or a locator) in the main area (or `root`)."""
        items = selector if not isinstance(selector, str) else \
            (root if root is not None else self.page.get_by_test_id("stMain")).locator(selector)
        shown = items.evaluate_all(VISIBLE_JS)  # one round trip, not one per element
        return [items.nth(i) for i, yes in enumerate(shown) if yes]

    def pick(self, items: list):
        return items[self.rng.randrange(len(items))] if items else None

    @staticmethod
    def label(element) -> str:
        """A short name for an element: its aria-label, its widget's label, or its text."""
        text = element.evaluate(LABEL_JS)
        return " ".join((text or "").split())[:50]

    # -- actions: each returns a description, or None when it does not apply here
    def do_navigate(self):
        title = self.pick([t for t in page_titles(self.page) if t != current_page(self.page)])
        goto_page(self.page, title, timeout=self.timeout)
        return f"navigate to '{title}'"

    def do_model(self):
        current = sidebar_model(self.page)
        model_box(self.page).click()
        names = [text.split()[0] for text in self.page.get_by_role("option").all_inner_texts()
                 if text.strip() and text.split()[0] != current]
        if not names:
            self.page.keyboard.press("Escape")
            return None
        name = self.pick(names)
        before = runs(self.page)
        _option(self.page, name).click()
        wait_idle(self.page, since=before, timeout=self.timeout)
        self.model = name
        return f"choose model {name}"

    def do_dataset(self):
        labels = [x.inner_text().strip() for x in self.visible("label:not(:has(input:checked))",
                                                               dataset_group(self.page))]
        label = self.pick(labels)
        if label is None:
            return None
        choose_dataset(self.page, label)
        return f"choose dataset '{label}'"

    def do_slider(self):
        slider = self.pick(self.visible("input[type=range]"))
        if slider is None:
            return None
        name = self.label(slider)
        if self.rng.random() < 0.3:  # click on the track
            box = slider.evaluate("e => { const r = (e.closest('[data-testid=stSlider]') ?"
                                  " e.closest('[data-testid=stSlider]').querySelector('[data-orientation] > div') : e)"
                                  ".getBoundingClientRect(); return [r.left, r.top, r.width, r.height]; }")
            u = self.rng.random()
            self.page.mouse.click(box[0] + u * box[2], box[1] + box[3] / 2)
            return f"click slider '{name}' track at {u:.2f}"
        keys = [self.pick(KEYS) for _ in range(self.rng.randint(1, 4))]
        slider.focus()
        if not slider.evaluate("e => document.activeElement === e"):
            return None  # e.g. inside a closed expander: the keys would go to whatever had focus (the dataset radio)
        for key in keys:
            self.page.keyboard.press(key)
        return f"slider '{name}' keys {' '.join(keys)}"

    def do_number(self):
        field = self.pick(self.visible("[data-testid=stNumberInput] input"))
        if field is None:
            return None
        value = self.pick(NUMBERS)
        field.fill(value)
        field.press("Enter")
        return f"type {value} into '{self.label(field)}'"

    def do_choice(self):
        boxes = self.visible("[data-testid=stSelectbox] [role=combobox]")
        radios = [r for r in self.visible("[data-testid=stRadioOption]") if not self.avoid.search(r.inner_text())]
        if not boxes and not radios:
            return None
        if radios and (not boxes or self.rng.random() < 0.5):
            radio = self.pick(radios)
            radio.click()
            return f"radio '{self.label(radio)}'"
        box = self.pick(boxes)
        box.click()
        texts = self.page.get_by_role("option").all_inner_texts()
        choices = [i for i, text in enumerate(texts) if not self.avoid.search(text)]
        if not choices:
            self.page.keyboard.press("Escape")
            return None
        i = self.pick(choices)
        self.page.get_by_role("option").nth(i).click()
        return f"selectbox '{self.label(box)}' → '{texts[i].strip()}'"

    def do_scatter(self):
        empty = self.rng.random() < 0.3
        spot = self.page.evaluate(VISIBLE_POINT_JS, [self.rng.random(), self.rng.random(), self.rng.random(), empty])
        if not spot:
            return None
        self.page.mouse.click(spot[0], spot[1])
        return f"click plot at {spot[2]}"

    def do_drag(self):
        canvas = self.pick(self.visible("canvas.pad, canvas.ink"))
        if canvas is None:
            return None
        canvas.scroll_into_view_if_needed()
        box = canvas.bounding_box()
        (u0, v0), (u1, v1) = [(self.rng.uniform(0.05, 0.95), self.rng.uniform(0.05, 0.95)) for _ in range(2)]
        self.page.mouse.move(box["x"] + u0 * box["width"], box["y"] + v0 * box["height"])
        self.page.mouse.down()
        for i in range(1, 11):
            t = i / 10
            self.page.mouse.move(box["x"] + (u0 + t * (u1 - u0)) * box["width"],
                                 box["y"] + (v0 + t * (v1 - v0)) * box["height"])
        self.page.mouse.up()
        return f"drag on canvas.{canvas.get_attribute('class')} ({u0:.2f},{v0:.2f})→({u1:.2f},{v1:.2f})"

    def do_expander(self):
        summary = self.pick(self.visible("[data-testid=stExpander] summary"))
        if summary is None:
            return None
        summary.click()
        return f"toggle expander '{self.label(summary)}'"

    def _click_button(self, buttons):
        button = self.pick([b for b in buttons if b.is_enabled() and not self.avoid.search(b.inner_text())])
        if button is None:
            return None
        name = " ".join(button.inner_text().split())
        button.click()
        return f"click button '{name}'"

    def do_train(self):
        return self._click_button([b for b in self.visible(APP_BUTTONS) if TRAIN_BUTTONS.search(b.inner_text())])

    def do_button(self):
        return self._click_button([b for b in self.visible(APP_BUTTONS) if b.inner_text().strip()])
