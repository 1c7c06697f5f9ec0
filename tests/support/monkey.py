"""A seeded random user: random actions on whatever is visible, a `check` after each (tests/support/walk.py).

    with new_session(browser, url) as page:
        Monkey(page, seed=7).run(200)     # replay a failure with the same seed from the app's root
"""
from __future__ import annotations

import random
import re
import time

from playwright.sync_api import Error as PlaywrightError

from tests.support.walk import (
    check,
    choose_dataset,
    current_page,
    dataset_group,
    goto_page,
    model_box,
    option,
    page_titles,
    runs,
    sidebar_model,
    wait_idle,
)

# Streamlit's buttons (not Plotly's modebar), and the options of segmented controls (the Train page's Play / Pause)
APP_BUTTONS = "[data-testid^=stBaseButton-]:not([data-testid=stBaseButton-elementToolbar]), [data-testid=stButtonGroup] button"
# (and the gaps of 500 test images, minutes of work, on a saved model: pages/gaps.py)
NOT_CLICKED = re.compile(r"delete|download|browse|upload|fullscreen|full screen|compute the gaps", re.I)  # `avoid`
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
  const disabled = e.disabled || e.getAttribute('aria-disabled') === 'true' || !!e.querySelector('input:disabled');
  return r.width > 0 && r.height > 0 && getComputedStyle(e).visibility !== 'hidden' && !disabled; })"""  # usable
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
        """The visible, enabled elements matching `selector` (a CSS string, or a locator) in the main area (or `root`)."""
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
        option(self.page, name).click()
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
