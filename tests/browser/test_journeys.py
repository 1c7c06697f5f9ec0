"""A journey through the app in a real browser: what breaks between pages, not on one page.

The combinatorics are walked by AppTest in tests/app/test_sessions.py (every ordered pair of pages on three models,
each sidebar choice three times on every page, σ_dec kept across visits, a large β). Here one session, in Chromium,
goes from Explore through every page (each from the one before it) and back, reading each page as it goes
(tests/support/figure_lint.py: words broken or cut, labels on top of each other, log ticks that do not read, a line
hidden under another, a chart wider than its column, a stray "None", and the browser's console) at a wide and a
narrow window; changes the model and the dataset where the page depends on them, and reads the pages that change
with the model on a Fashion-MNIST and a 16-D model at the narrow window, where words break and labels collide first.
A seeded monkey does what a restless student does (benchmarks/monkey.py runs it for longer). A journey does not stop
at the first broken step: it collects them all and fails with the list, so one run shows the pattern.
"""
import time

import pytest

from tests.support.figure_lint import Console, lint
from tests.support.monkey import Monkey
from tests.support.server import needs_chromium
from tests.support.walk import (
    PAGES,
    check,
    choose_dataset,
    choose_model,
    current_page,
    fingerprint,
    goto_page,
    new_session,
    resize,
    settle,
    sidebar_dataset,
    sidebar_model,
)

needs_chromium()

EXPLORE = "Explore the latent space"
MODEL = "mnist-2d-sigma0.3"
WIDE, NARROW = 1500, 1024  # a wide window and a tablet's (a phone's, 390 px: test_accessibility reads every page)
MODEL_PAGES = [title for title, expect in PAGES.items() if expect.model_dependent]


@pytest.fixture
def session(browser, server):
    """A fresh browser tab (a new Streamlit session) opened at the app's root on MODEL, idle."""
    with new_session(browser, f"{server}/?model={MODEL}") as page:
        yield page


class Journey:
    """Steps that record a failed check and go on; `done()` fails with all of them."""

    def __init__(self, page, name: str):
        self.page, self.name, self.failures, self.steps, self.label = page, name, [], 0, ""

    def step(self, description: str, action, **expect) -> bool:
        """Do `action`, then `check` the page (with `expect`); False if it failed."""
        self.steps += 1
        self.label = f"{self.name} step {self.steps}: {description}"
        try:
            action()
            check(self.page, step=self.label, **expect)
        except AssertionError as exc:
            message = str(exc)  # check's own messages name the step; a wait's (wait_idle) does not
            named = message.startswith(f"[{self.label}]")
            self.failures.append(message if named else f"[{self.label}] {message}")
            return False
        return True

    def fail(self, message: str) -> None:
        """Record a failure of the last step found by the caller's own check."""
        self.failures.append(f"[{self.label}] {message}")

    def read(self, widths) -> None:
        """The figure lint of the page as it is drawn now, at each of `widths` in turn (the window stays at the
        last); each problem is a failure of the last step."""
        for n, width in enumerate(widths):
            if n or self.page.viewport_size["width"] != width:
                resize(self.page, width)
            else:
                settle(self.page)
            for problem in lint(self.page):
                self.fail(f"@{width}px: {problem}")

    def done(self):
        assert not self.failures, (f"{len(self.failures)} of {self.steps} steps failed:\n  "
                                   + "\n  ".join(f[:300] for f in self.failures[:20]))


def test_every_page_and_back_then_the_sidebars_choices(session):
    """Explore → every other page, each from the one before it in the sidebar → Explore again (Streamlit drops a
    widget's state when a run does not draw it: Explore, the page with the most state, is re-entered; AppTest walks
    every ordered pair of pages); the model stays the one chosen, and each page reads cleanly at both widths. Then, on
    the pages that depend on it, the model changed and changed back redraws the page; the other dataset brings one of
    its own models; the model pages read cleanly on it and on a 16-D model."""
    page = session
    console = Console(page)
    journey = Journey(page, MODEL)
    goto_page(page, EXPLORE)
    if journey.step(f"open {EXPLORE}", lambda: None, expect_model=MODEL):
        journey.read((WIDE, NARROW))
    here = EXPLORE
    for title in [t for t in PAGES if t != EXPLORE]:
        if journey.step(f"{here} → {title}", lambda title=title: goto_page(page, title), expect_model=MODEL):
            width = page.viewport_size["width"]  # read at this width first, then the other (one resize a page)
            journey.read((width, NARROW if width == WIDE else WIDE))
        here = title
    journey.step(f"{here} → {EXPLORE}", lambda: goto_page(page, EXPLORE), expect_model=MODEL)
    for title in ("ELBO decomposition", "Generate", EXPLORE):
        if current_page(page) != title:
            journey.step(f"open {title}", lambda title=title: goto_page(page, title))
        for name in ("mnist-2d-sigma1.0", MODEL):
            before = fingerprint(page)
            if journey.step(f"on {title}: model → {name}", lambda name=name: choose_model(page, name),
                            expect_model=name) and fingerprint(page) == before:
                journey.fail("the page did not redraw (the same charts, images and metrics as before the change)")
    here = sidebar_dataset(page)
    resize(page, NARROW)
    for label, prefix in (("Fashion-MNIST", "fashion-"), (here, "mnist-")):
        if journey.step(f"dataset → {label}", lambda label=label: choose_dataset(page, label), expect_dataset=label) \
                and not sidebar_model(page).startswith(prefix):
            journey.fail(f"the sidebar's model {sidebar_model(page)} is not one of the {label}")
        if prefix == "mnist-":
            journey.step("model → mnist-16d-sigma0.3", lambda: choose_model(page, "mnist-16d-sigma0.3"),
                         expect_model="mnist-16d-sigma0.3")
        model = sidebar_model(page)
        for title in MODEL_PAGES:  # where the model changes the page
            if journey.step(f"on {model}: {title}", lambda title=title: current_page(page) == title
                            or goto_page(page, title), expect_model=model):
                journey.read((NARROW,))
    for line in console.take():
        journey.fail(line)
    journey.done()


MONKEY_SEED, MONKEY_ACTIONS = 20240607, 40


def test_monkey(session):
    """Random actions with a fixed seed, checked after each; the failure names the step to replay."""
    start = time.perf_counter()
    monkey = Monkey(session, MONKEY_SEED)
    try:
        monkey.run(MONKEY_ACTIONS)
    finally:
        seconds = time.perf_counter() - start
        print(f"monkey: {monkey.step} actions in {seconds:.0f} s ({60 * monkey.step / seconds:.0f}/min); "
              + ", ".join(f"{k} {monkey.counts[k]} × {v / monkey.counts[k]:.1f} s" for k, v in monkey.seconds.items()))
        for text in monkey.slow:
            print(f"  slow, behind a spinner: {text}")
