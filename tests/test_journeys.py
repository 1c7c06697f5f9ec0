"""Journeys through the app in a real browser: what breaks between pages, not on one page.

Each test opens a fresh browser session (its own Streamlit session) on one server per module, walks
with the generic actions of tests/session_walk.py and checks the page after every step (no exception
box, no uncaught JS error, a heading and a figure, the sidebar's model). A journey does not stop at
the first broken step: it collects them all and fails with the list, so one run shows the pattern.
Skipped, like tests/test_browser.py, when Chromium or Playwright is missing.
"""
import re
import time

import pytest

from tests.browser import needs_chromium
from tests.session_walk import (PAGES, Monkey, check, choose_dataset, choose_model, current_page,
                                fingerprint, goto_page, new_session, runs, sidebar_dataset, sidebar_model, wait_idle)

needs_chromium()

EXPLORE = "Explore the latent space"
TITLES = list(PAGES)  # the sidebar's order
DATASETS = {"MNIST": "mnist-", "Fashion-MNIST": "fashion-"}  # label → its models' prefix


@pytest.fixture
def session(browser, server):
    """A fresh browser tab (a new Streamlit session) opened at the app's root, idle."""
    with new_session(browser, server) as page:
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
            self.failures.append(str(exc))
            return False
        return True

    def fail(self, message: str) -> None:
        """Record a failure of the last step found by the caller's own check."""
        self.failures.append(f"[{self.label}] {message}")

    def done(self):
        assert not self.failures, (f"{len(self.failures)} of {self.steps} steps failed:\n  "
                                   + "\n  ".join(f[:300] for f in self.failures[:20]))


def tour(start: str) -> list[str]:
    """Leave Explore for each other page and come back (E→X→E), then go through all pages twice in a row.

    The defects this hunts live in session state that a page leaves behind or finds missing when it is
    opened again: Streamlit drops a widget's state when a run does not draw it, so every page is left
    and re-entered at least twice (once from its neighbour, once after all the others). The star around
    Explore, the page with the most state (z, selection, pad), re-enters it from every page. 30 steps
    per model instead of the 112 of every ordered pair's A→B→A.
    """
    others = [t for t in TITLES if t != start]
    star = [page for other in others for page in (other, start)]
    return star + (others + [start]) * 2


@pytest.mark.parametrize("model", ["mnist-2d-sigma0.3", "mnist-16d-sigma0.3", "fashion-2d-sigma0.3"])
def test_every_page_then_another_then_back(session, model):
    """The tour() of the pages on one model; after every step the page drew and the model is the same."""
    page = session
    dataset = next(label for label, prefix in DATASETS.items() if model.startswith(prefix))
    if sidebar_dataset(page) != dataset:
        choose_dataset(page, dataset)
    if sidebar_model(page) != model:
        choose_model(page, model)
    journey = Journey(page, model)
    journey.step(f"open {EXPLORE}", lambda: None, expect_model=model)
    previous = EXPLORE
    for title in tour(EXPLORE):
        journey.step(f"{previous} → {title}", lambda: goto_page(page, title), expect_model=model)
        previous = title
    journey.done()


def model_changes(page):
    """Three models in a row, each a change from the one before (a session starts on sigma0.3, and ends on it)."""
    return [(f"model → {name}", lambda name=name: choose_model(page, name), {"expect_model": name})
            for name in ("mnist-2d-sigma0.1", "mnist-2d-sigma1.0", "mnist-2d-sigma0.3")]


def dataset_changes(page):
    """The other dataset, back, the other again."""
    here = sidebar_dataset(page)
    there = next(label for label in DATASETS if label != here)
    return [(f"dataset → {label}", lambda label=label: choose_dataset(page, label), {"expect_dataset": label})
            for label in (there, here, there)]


@pytest.mark.parametrize("changes", [model_changes, dataset_changes], ids=["model", "dataset"])
def test_each_sidebar_choice_three_times_on_every_page(session, changes):
    """On every page, change a sidebar choice three times in a row. After each change the sidebar shows
    the last choice (and a model of the chosen dataset), and a page whose content depends on the model
    drew something new."""
    page = session
    journey = Journey(page, "sidebar")
    for title in TITLES:
        if current_page(page) != title:
            journey.step(f"open {title}", lambda: goto_page(page, title))
        for description, change, expect in changes(page):
            before = fingerprint(page)
            if not journey.step(f"on {title}: {description}", change, **expect):
                continue
            label = expect.get("expect_dataset")
            if label and not sidebar_model(page).startswith(DATASETS[label]):
                journey.fail(f"the sidebar's model {sidebar_model(page)} is not one of the {label}")
            elif PAGES[title].model_dependent and fingerprint(page) == before:
                journey.fail("the page did not redraw (the same charts, images and metrics as before the change)")
    journey.done()


SIGMA = re.compile("σ_dec")


def sigma_value(page) -> str:
    slider = page.get_by_test_id("stMain").get_by_role("slider", name=SIGMA).first
    return slider.get_attribute("aria-valuetext") or slider.input_value()


@pytest.mark.parametrize("title", ["ELBO decomposition", "True posterior vs q"])
def test_sigma_survives_leaving_the_page(session, title):
    page = session
    goto_page(page, title)
    default = sigma_value(page)
    slider = page.get_by_test_id("stMain").get_by_role("slider", name=SIGMA).first
    before = runs(page)
    slider.focus()
    for _ in range(3):
        page.keyboard.press("ArrowRight")
    wait_idle(page, since=before)
    check(page, step=f"move σ_dec on {title}")
    chosen = sigma_value(page)
    assert chosen != default, f"σ_dec did not move from {default}"
    for other in ("Models", "Interpolate"):
        goto_page(page, other)
        check(page, step=f"{title} → {other}")
        goto_page(page, title)
        check(page, step=f"{other} → {title}")
        assert sigma_value(page) == chosen, (f"σ_dec on {title} was {chosen}; after a visit to {other} it is "
                                             f"{sigma_value(page)} (the default is {default})")


def test_train_a_model_with_a_large_beta(session):
    """The form accepts β up to 10; the live controls that follow must accept the model it made."""
    page = session
    goto_page(page, "Train live")
    main = page.get_by_test_id("stMain")
    main.get_by_label("β", exact=True).fill("5")
    main.get_by_text("2,000", exact=True).click()
    before = runs(page)
    main.get_by_role("button", name="Create model").click()
    wait_idle(page, since=before, timeout=60)
    try:
        check(page, step="create a model with β = 5")
    finally:
        stop = main.get_by_role("button", name=re.compile(r"Stop$"))
        if stop.count():
            stop.click()  # end the training process now rather than at its heartbeat timeout


MONKEY_SEED, MONKEY_ACTIONS = 20240607, 200


def test_monkey(session):
    """Random actions with a fixed seed, checked after each; the failure names the step to replay.

    Last in the module: it may save models into the server's user folder.
    """
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
