"""The Class and Models pages through AppTest, as several browsers (each its own key): ownership, joining, the
teacher's link, submitting, and what the board shows — each entry measured by the server, equal to vae.evaluate's
scorecard computed here."""
import numpy as np
import pytest
import torch
from streamlit.testing.v1 import AppTest

from classroom import classes, db, identity, models
from tests.support.app import keep_model, session
from ui.images import png_bytes
from vae import VAE, VAEConfig, checkpoint

TEACHER, ALICE, BOB, MALLORY = ("T" * 43, "a" * 43, "b" * 43, "m" * 43)


@pytest.fixture(autouse=True)
def data(mnist_dir):
    return mnist_dir


def page(path: str, key: str, query: dict | None = None) -> AppTest:
    at = session(key)
    at.query_params.update(query or {})
    at.switch_page(path).run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def small_checkpoint(seed: int = 0, **config) -> bytes:
    torch.manual_seed(seed)
    return checkpoint.to_bytes(VAE(VAEConfig(latent_dim=2, hidden=(16,), **config)), meta={"steps": 123})


def start_class(title: str = "Period 3") -> tuple[classes.Class, str]:
    at = page("pages/class.py", TEACHER)
    at.text_input(key="class_title").set_value(title)
    at.form_submit_button[1].click().run()
    assert not at.exception
    code = next(m.value for m in at.metric if m.label == "Class code")
    link = next(c.value for c in at.code if "key=" in c.value)
    return classes.find(db.engine(), code), link.split("key=")[1]


def test_models_are_listed_as_yours_only_to_their_owner_and_deleted_only_by_them():
    keep_model("alices-model", small_checkpoint(1), key=ALICE)
    alice = page("pages/models.py", ALICE)
    assert any("alices-model  (yours)" in e.label for e in alice.expander)
    assert alice.button(key="delete_alices-model")
    assert "alices-model" in alice.sidebar.selectbox(key="model").options
    for other in (BOB, MALLORY):  # another browser, or a forged key: not listed, no button, not in the sidebar
        at = page("pages/models.py", other)
        assert not any("alices-model" in e.label for e in at.expander)
        assert "alices-model" not in at.sidebar.selectbox(key="model").options
    linked = page("pages/explore.py", BOB, {"model": "alices-model"})  # a link to it opens the default instead
    assert linked.sidebar.selectbox(key="model").value == "mnist-2d-sigma0.3"
    again = page("pages/models.py", ALICE)  # the same browser later (a reload, another tab): still hers
    again.checkbox(key="confirm_alices-model").check().run()
    again.button(key="delete_alices-model").click().run()
    assert models.find(db.engine(), "alices-model") is None


def test_a_teacher_starts_a_class_and_the_teacher_link_is_shown_once():
    klass, key = start_class("Period 3 — **VAEs** <b>x</b> :red[r]")
    assert klass is not None and identity.KEY_PATTERN.match(key)
    at = page("pages/class.py", TEACHER, {"class": klass.code})
    assert any(s.value == "Period 3 — \\*\\*VAEs\\*\\* \\<b\\>x\\</b\\> \\:red\\[r\\]" for s in at.subheader)  # as typed
    assert any(f"join={klass.code}" in c.value for c in at.code)
    assert not any("key=" in c.value for c in at.code)  # shown once, in the session that created it
    other_browser = page("pages/class.py", BOB, {"class": klass.code, "key": key})  # the teacher link elsewhere
    assert any(m.label == "Class code" for m in other_browser.metric)  # the teacher's view
    assert "key" not in other_browser.query_params
    assert classes.teaches(db.engine(), klass, identity.of_browser(BOB))
    forged = page("pages/class.py", MALLORY, {"class": klass.code, "key": identity.new_key()})
    assert any("does not open this class" in e.value for e in forged.error)
    assert not classes.teaches(db.engine(), klass, identity.of_browser(MALLORY))


def test_a_student_joins_by_the_link_and_a_bad_name_gets_a_message():
    klass, _ = start_class()
    at = page("pages/class.py", ALICE, {"join": klass.code})
    for bad in ("<script>x</script>", "", "**bold**", "Robert'); DROP TABLE members;--"):
        at.text_input(key="class_join_as").set_value(bad)
        at.form_submit_button[0].click().run()
        assert at.error and not at.exception
    at.text_input(key="class_join_as").set_value("Ada L")
    at.form_submit_button[0].click().run()
    assert any("You are in this class as Ada L" in c.value for c in at.caption)
    wrong = page("pages/class.py", BOB, {"join": "ZZZZZZ" if klass.code != "ZZZZZZ" else "YYYYYY"})
    assert any("No class has that code" in e.value for e in wrong.error)


def on_the_board(klass, timeout: float = 120.0) -> list[dict]:
    """The class's board once the server's scoring pool has put something on it."""
    import time

    end = time.monotonic() + timeout
    while not classes.board(db.engine(), klass):
        assert time.monotonic() < end, "nothing reached the board"
        time.sleep(0.2)
    return classes.board(db.engine(), klass)


def test_a_submission_is_measured_by_the_server_and_shown_on_the_board(quick_scoring):
    """The model was measured in the click's run; now the click answers at once, the measurement is queued, and the
    entry lands when measured (classroom.scoring), with the figures vae.evaluate computes here."""
    from vae.data import load_dataset
    from vae.evaluate import evaluate

    klass, _ = start_class()
    classes.join(db.engine(), klass, identity.of_browser(ALICE), "Ada")
    data = small_checkpoint(3, sigma_dec=0.5, beta=2.0)
    keep_model("adas-model", data, key=ALICE)
    at = page("pages/models.py", ALICE)
    at.button(key="submit_adas-model_submit").click().run()
    assert not at.exception and any("goes on the board of Period 3 once measured" in i.value for i in at.info)
    (row,) = on_the_board(klass)
    expected = evaluate(checkpoint.from_bytes(data).model, load_dataset("mnist", "test").to_float(),
                        iw_samples=quick_scoring)
    for key, name in (("elbo", "elbo"), ("rate", "kl"), ("distortion", "distortion"), ("log_px_iwae", "log_px_iwae"),
                      ("active_units", "active_dims")):
        assert row[key] == pytest.approx(expected[name], rel=1e-6), key
    assert (row["sigma_dec"], row["beta"], row["latent_dim"], row["iwae_images"]) == (0.5, 2.0, 2, 10_000)
    assert row["steps"] == 123 and row["student"] == "Ada" and row["model"] == "adas-model"
    at.run()
    assert any("On the board of Period 3" in c.value for c in at.caption) and not at.info
    at.button(key="submit_adas-model_submit").click().run()  # twice: refused, not duplicated
    assert any("on the board already" in e.value for e in at.error)
    assert len(classes.board(db.engine(), klass)) == 1
    board = page("pages/class.py", TEACHER, {"class": klass.code})
    frame = board.dataframe[0].value
    assert list(frame["student"]) == ["Ada"] and frame["ELBO"][0] == pytest.approx(expected["elbo"])
    assert "adas-model" in board.sidebar.selectbox(key="model").options  # the teacher may open it
    classmate = page("pages/explore.py", BOB)
    assert "adas-model" not in classmate.sidebar.selectbox(key="model").options  # not in the class: not shared
    classes.join(db.engine(), klass, identity.of_browser(BOB), "Bob")
    classmate = page("pages/explore.py", BOB, {"model": "adas-model"})
    assert classmate.sidebar.selectbox(key="model").value == "adas-model"  # a classmate may open it
    assert classmate.sidebar.caption[0].value.endswith("(shared)")


def test_the_teacher_freezes_hides_and_closes(monkeypatch):
    klass, _ = start_class()
    engine = db.engine()
    for key, name in ((ALICE, "Ada"), (BOB, "Bob")):
        classes.join(engine, klass, identity.of_browser(key), name)
        model = keep_model(f"{name.lower()}-model", small_checkpoint(len(name)), key=key)
        classes.submit(engine, klass, identity.of_browser(key), model.id, dict(
            latent_dim=2, likelihood="gaussian", sigma_dec=0.3, beta=1.0, steps=1, elbo=1.0, rate=1.0, distortion=1.0,
            log_px_iwae=1.0, iwae_images=1000, active_units=2), png_bytes(np.zeros((28, 28), np.uint8)))
    at = page("pages/class.py", TEACHER, {"class": klass.code})
    at.selectbox(key=f"board_entry_{klass.id}").set_value(at.selectbox(key=f"board_entry_{klass.id}").options[0]).run()
    at.button(key=f"board_hide_{klass.id}").click().run()
    assert [r["student"] for r in classes.board(engine, klass)] == ["Bob"]
    student = page("pages/class.py", BOB, {"class": klass.code})
    assert list(student.dataframe[0].value["student"]) == ["Bob"]  # hidden from the students
    at.toggle(key=f"class_frozen_{klass.id}").set_value(True).run()
    assert classes.find(engine, klass.code).frozen
    at.checkbox(key=f"class_close_confirm_{klass.id}").check().run()
    at.button(key=f"class_close_{klass.id}").click().run()
    assert classes.find(engine, klass.code).closed
    late = page("pages/class.py", MALLORY, {"join": klass.code})
    assert any("closed" in i.value for i in late.info)


def test_open_in_explore_from_the_board_opens_the_model_even_when_the_boards_timed_run_comes_first():
    """The button's one-off True was lost when the board's timed rerun ran first: the click chose the model and left
    the teacher on the board (seen in Chromium under load). The click's callback now leaves a flag that the next run
    of the board, timed or not, acts on."""
    klass, _ = start_class()
    engine = db.engine()
    classes.join(engine, klass, identity.of_browser(ALICE), "Ada")
    model = keep_model("adas-model", small_checkpoint(5), key=ALICE)
    classes.submit(engine, klass, identity.of_browser(ALICE), model.id, dict(
        latent_dim=2, likelihood="gaussian", sigma_dec=0.3, beta=1.0, steps=1, elbo=1.0, rate=1.0, distortion=1.0,
        log_px_iwae=1.0, iwae_images=1000, active_units=2), png_bytes(np.zeros((28, 28), np.uint8)))
    at = page("pages/class.py", TEACHER, {"class": klass.code})
    from ui import board, sidebar

    # what the click's callback (board.open_model) leaves, then a timed run of the board instead of the click's run
    at.session_state[sidebar.DATASET_KEY], at.session_state[sidebar.MODEL_KEY] = "MNIST", "adas-model"
    at.session_state[board.OPENING] = True
    at.run()
    assert not at.exception and at.header[0].value == "Explore the latent space"
    assert at.sidebar.selectbox(key="model").value == "adas-model"


def test_a_submit_clicked_after_the_teacher_froze_is_refused_at_once_and_forgotten():
    """The picker was still on screen when the teacher froze; the click's run then drew no picker and said nothing,
    and the request waited in the session: when the teacher unfroze, the model landed on the board with no new click.
    Now the click is refused at once, with a message, and nothing is kept."""
    klass, _ = start_class()
    engine = db.engine()
    classes.join(engine, klass, identity.of_browser(ALICE), "Ada")
    keep_model("adas-model", small_checkpoint(4), key=ALICE)
    at = page("pages/models.py", ALICE)
    classes.set_frozen(engine, klass, identity.of_browser(TEACHER), True)  # after Ada's page was drawn
    at.button(key="submit_adas-model_submit").click().run()
    assert not at.exception
    assert any("frozen" in e.value and "nothing was submitted" in e.value for e in at.error), [e.value for e in at.error]
    assert any("frozen for now in Period 3" in c.value for c in at.caption)
    classes.set_frozen(engine, klass, identity.of_browser(TEACHER), False)
    at.run()
    at.run()
    from classroom import scoring

    model = models.find(engine, "adas-model")
    assert scoring.waiting(engine, model.id, identity.of_browser(ALICE)) == []
    assert scoring.job_of(engine, model.id) is None and classes.board(engine, klass) == []


