"""Links as a teacher writes them and a student opens them, through AppTest: every page's link read back to the same
settings, σ_dec 1 written as the slider reads it, Train live's recipe before Create model, a lesson step whose stored
link hides and locks what the address no longer says, and the pages' own names and titles."""
from urllib.parse import parse_qsl, urlsplit

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

from classroom import db, identity, lessons
from tests.support.app import BROWSER_KEY, session
from ui import links

STUDENT = "s" * 43


@pytest.fixture(autouse=True)
def data(mnist_dir):
    return mnist_dir


def ok(at: AppTest) -> AppTest:
    assert not at.exception, [e.value for e in at.exception]
    return at


def opened(path: str, query: dict | None = None, key: str = BROWSER_KEY) -> AppTest:
    """`path` (pages/*.py) opened by a link with `query`, as a fresh browser session."""
    at = session(key)
    at.query_params.update(query or {})
    return ok(at.switch_page(path).run())


def shared(at: AppTest) -> dict:
    """The query of the link "Share this view" gives now."""
    link = next(c.value for c in at.sidebar.code if "model=" in c.value)
    return dict(parse_qsl(urlsplit(link).query))


def said(elements) -> str:
    """What these elements say, as read (without markdown's escapes)."""
    return " ".join(e.value.replace("\\", "") for e in elements)


def toasts(at: AppTest) -> list[str]:
    return [t.value for t in at.toast]


def hidden_style(at: AppTest) -> str:
    """The style rule that hides a link's hidden controls ('' when none)."""
    return " ".join(h.proto.body for h in at.get("html") if "display: none" in h.proto.body)


def stop_training(at: AppTest) -> None:
    run = at.session_state["live_run"] if "live_run" in at.session_state else None
    if run is not None:
        run.trainer.stop()


def test_sigma_one_on_train_live_is_shared_as_the_slider_reads_it_and_read_in_any_spelling():
    """The link carried train_sigma=1, which the slider refused ("not one of the choices") and the student trained at
    0.3. Train live's settings changed but not yet created were dropped, and the training size never travelled."""
    at = opened("pages/train.py")
    at.select_slider(key="train_sigma").set_value(1.0)
    at.select_slider(key="train_lr").set_value(1e-4)
    at.radio(key="train_size").set_value("2,000").run()
    query = shared(at)
    assert query["train_sigma"] == "1.0" and query["train_lr"] == "0.0001" and query["train_size"] == "2,000"
    student = opened("pages/train.py", query, STUDENT)
    assert student.select_slider(key="train_sigma").value == 1.0 and student.radio(key="train_size").value == "2,000"
    assert not toasts(student)
    for spelling in ("1", "1.00", "1e0"):
        student = opened("pages/train.py", {"train_sigma": spelling, "train_lr": "1e-4"}, STUDENT)
        assert student.select_slider(key="train_sigma").value == 1.0, spelling
        assert student.select_slider(key="train_lr").value == 1e-4, spelling
        assert not toasts(student), (spelling, toasts(student))
    refused = opened("pages/train.py", {"train_sigma": "0.33"}, STUDENT)  # not a choice: said so, the default kept
    assert refused.select_slider(key="train_sigma").value == 0.3
    assert any("train_sigma" in t for t in toasts(refused))


def step_link(k: int = 1, **query) -> dict:
    return {"lesson_step": str(k), **query}


def a_lesson(*links_: str) -> lessons.Lesson:
    teacher = identity.of_browser(BROWSER_KEY)
    return lessons.create(db.engine(), teacher, "σ_dec in three steps",
                          [{"link": link, "note": f"Step {k}"} for k, link in enumerate(links_, 1)])


def test_a_lesson_steps_hidden_sigma_holds_without_hide_in_the_address_and_after_create_model():
    """Deleting hide= from a lesson step's address freed the control while the bar still said "step 1 of 3"; Create
    model then showed σ_dec again as a live slider."""
    lesson = a_lesson("/train?train_sigma=1&train_size=2%2C000&view=lesson&hide=train_sigma", "/elbo", "/elbo")
    at = opened("pages/train.py", {"train_sigma": "0.5", "train_size": "2,000", "lesson": lesson.code,
                                   "lesson_step": "1"}, STUDENT)  # hide= and view= gone, σ_dec changed
    try:
        assert "step 1 of 3" in " ".join(c.value for c in at.caption)
        assert at.select_slider(key="train_sigma").value == 1.0
        assert ".st-key-train_sigma" in hidden_style(at) and ".st-key-live_sigma" in hidden_style(at)
        assert at.query_params["hide"] == "train_sigma" and at.query_params["view"] == "lesson"
        assert "train_sigma=0.5 in the address was not used" in said(at.warning)  # the address's value, refused, said so
        assert any(f"lesson={lesson.code}" in m.value and "Back to the lesson" in m.value for m in at.markdown)
        at.select_slider(key="train_sigma").set_value(0.1).run()  # the page edited: the server puts it back
        ok(at.button(key="train_create").click().run())
        assert at.session_state["live_run"].trainer.config.sigma_dec == 1.0
        assert at.select_slider(key="live_sigma").value == 1.0
        assert ".st-key-live_sigma" in hidden_style(at)
    finally:
        stop_training(at)


def test_a_lesson_steps_locked_model_refuses_another_model_in_the_address():
    """With lock=model kept, changing model= loaded another model with no word."""
    lesson = a_lesson("/elbo?model=mnist-2d-sigma1.0&elbo_index=4&lock=model")
    at = opened("pages/elbo.py", {"model": "mnist-2d-sigma0.3", "elbo_index": "4", "lesson": lesson.code,
                                  "lesson_step": "1"}, STUDENT)
    assert at.sidebar.selectbox(key="model").value == "mnist-2d-sigma1.0" and at.sidebar.selectbox(key="model").disabled
    assert "model=mnist-2d-sigma0.3 in the address was not used" in said(at.warning)
    assert any("lesson_step=1" in m.value and "Back to the lesson" in m.value for m in at.markdown)
    # Without lock=model in the address either: still locked, as the stored step says.
    again = opened("pages/elbo.py", {"model": "mnist-2d-sigma0.3", "lesson": lesson.code, "lesson_step": "1"}, STUDENT)
    assert again.sidebar.selectbox(key="model").value == "mnist-2d-sigma1.0"
    # A view that differs from the step in a free setting says so, with the way back.
    other = opened("pages/elbo.py", {"model": "mnist-2d-sigma1.0", "elbo_index": "7", "lesson": lesson.code,
                                     "lesson_step": "1"}, STUDENT)
    assert other.number_input(key="elbo_index").value == 7 and not other.warning
    assert "elbo_index is 7 here, 4 in the step" in said(other.caption)
    same = opened("pages/elbo.py", {"model": "mnist-2d-sigma1.0", "elbo_index": "4", "lesson": lesson.code,
                                    "lesson_step": "1"}, STUDENT)
    assert not any("Back to the lesson" in m.value for m in same.markdown)  # the lesson's own view: nothing to say


def test_lesson_steps_are_listed_by_their_pages_titles():
    lesson = a_lesson("/elbo?elbo_sigma=0.1", "/?learn_step=5", "/learn?learn_step=6", "/train")
    at = opened("pages/lesson.py", {"lesson": lesson.code}, STUDENT)
    steps = [m.value for m in at.markdown if m.value[:1].isdigit()]
    assert [s.split(">", 1)[1].split("<", 1)[0] for s in steps] == [
        "ELBO decomposition", "The VAE, step by step", "The VAE, step by step", "Train live"]


ROUND_TRIPS = [("pages/learn.py", "mnist-2d-sigma0.3", {"learn_step": str(k)}) for k in (1, 2, 6, 10)] + [
    (f"pages/{name}.py", model, {}) for name, model in (
        ("explore", "mnist-16d-sigma0.3"), ("interpolate", "mnist-16d-sigma0.3"), ("generate", "mnist-16d-sigma0.3"),
        ("elbo", "mnist-2d-sigma1.0"), ("reparameterisation", "mnist-16d-sigma0.3"),
        ("rate_distortion", "mnist-2d-sigma0.3"), ("train", "mnist-2d-sigma0.3"))] + [
    ("pages/draw.py", "mnist-16d-sigma0.3", {"drawing": links.encode_drawing(np.eye(28)[::-1])})]
# Not the posterior page: each view is ~15 s of integrals here, and its two settings are the ELBO page's kinds (a σ_dec
# choice, a test image), which go round above. The lesson, class and models pages hold codes, not settings.


def other_values(at: AppTest, keys) -> dict:
    """For each of `keys` drawn on the page, the next value after its own, spelled as its widget takes it from a URL
    (a choice's label, a number)."""
    query = {}
    for w in [*at.select_slider, *at.selectbox, *at.radio]:
        if w.key in keys and len(w.options) > 1:
            index = w.index if hasattr(w, "index") else w.options.index(str(w.value))
            query[w.key] = w.options[index - 1 if index == len(w.options) - 1 else index + 1]
    for w in [*at.number_input, *at.slider]:
        if w.key in keys:
            query[w.key] = str(type(w.value)(w.value - w.step if w.value + w.step > w.max else w.value + w.step))
    for w in at.text_input:
        if w.key in keys:
            query[w.key] = "128,64"
    return query


@pytest.mark.parametrize("path, model, fixed", ROUND_TRIPS, ids=lambda v: v if isinstance(v, str) else "")
def test_every_pages_link_reads_back_to_the_settings_it_was_written_from(path, model, fixed):
    """A teacher's view (every setting moved off its default) → "Share this view" → a student's session: each
    parameter the same value, exactly, and the student's own link the same link."""
    page = path.removeprefix("pages/").removesuffix(".py")
    keys = [key for key in links.PARAMETERS[page] if key not in fixed]
    base = {**fixed, "model": model}
    teacher = opened(path, {**base, **other_values(opened(path, base), keys)})
    written = shared(teacher)
    student = opened(path, written, STUDENT)
    compared = [key for key in [*links.SIDEBAR, *links.PARAMETERS[page]] if key in teacher.session_state]
    assert len(compared) >= 3, compared
    for key in compared:
        assert student.session_state[key] == teacher.session_state[key], (key, written.get(key))
    assert shared(student) == written and not toasts(student)


def test_a_page_that_stops_early_still_offers_its_link():
    """Draw before a drawing, and ELBO's second mode, end with st.stop(): nothing after it was drawn, so the sidebar
    had no "Share this view" there."""
    for path, query in (("pages/draw.py", {}), ("pages/elbo.py", {"elbo_mode": "a model trained at each σ_dec"})):
        at = opened(path, {"model": "mnist-2d-sigma0.3", **query})
        assert shared(at)["model"] == "mnist-2d-sigma0.3", path


def test_a_lesson_step_opens_train_live_on_a_run_recomputed_to_its_step():
    """A teacher's "watch what happens between step 10 and 60": the step's link carries the recipe, train_steps and
    train_at; the student's page recomputes the run from its recipe and seed and pauses it, its timeline at 10."""
    lesson = a_lesson("/train?train_size=2%2C000&train_seed=3&train_steps=60&train_at=10&view=lesson", "/elbo")
    at = opened("pages/train.py", dict(parse_qsl(urlsplit(links.step_url(lesson, 1)).query)), STUDENT)
    try:
        ok(at)
        run = at.session_state["live_run"]
        assert run.trainer.snapshot(probe=False)["step"] == 60 and run.trainer.config.seed == 3
        assert at.session_state["train_at"] == 10 and 10 in run.trainer.timeline().steps
        assert any("at step 10 of 60" in c.value for c in at.caption)
    finally:
        if "live_run" in at.session_state:
            at.session_state["live_run"].trainer.stop()
