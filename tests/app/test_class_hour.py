"""The class hour without silent surprises, through AppTest: refusals that stay until dismissed, a look-alike name
refused by the page, a closed class still listed, a hidden entry its teacher opens, and no traceback in the
browser."""
import tomllib

import numpy as np
import pytest
import torch
from streamlit import config

from classroom import classes, db, identity
from tests.support import ROOT
from tests.support.app import keep_model, session
from ui.images import png_bytes
from vae import VAE, VAEConfig, checkpoint

TEACHER, ALICE, BOB = "T" * 43, "a" * 43, "b" * 43
FIGURES = dict(latent_dim=2, likelihood="gaussian", sigma_dec=0.3, beta=1.0, steps=1, elbo=1.0, rate=1.0,
               distortion=1.0, log_px_iwae=1.0, iwae_images=1000, active_units=2)


@pytest.fixture(autouse=True)
def data(mnist_dir):
    return mnist_dir


def page(key: str, query: dict | None = None):
    at = session(key)
    at.query_params.update(query or {})
    at.switch_page("pages/class.py").run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def errors(at) -> list[str]:
    return [e.value for e in at.error]


def dismiss_all(at) -> None:
    while any(b.label == "Dismiss" for b in at.button):
        next(b for b in at.button if b.label == "Dismiss").click().run()


def test_a_wrong_teacher_links_refusal_stays_until_dismissed():
    """It vanished with the next run (1.4 s later in a browser: the teacher link's own rerun erased it)."""
    klass, _ = classes.create(db.engine(), identity.of_browser(TEACHER), "Period 3")
    at = page(BOB, {"class": klass.code, "key": identity.new_key()})
    assert ["does not open this class" in e for e in errors(at)] == [True] and "key" not in at.query_params
    at.run()
    at.run()
    assert ["does not open this class" in e for e in errors(at)] == [True]
    dismiss_all(at)
    assert errors(at) == [] and not at.exception
    at.run()
    assert errors(at) == []


def test_a_look_alike_name_is_refused_on_the_page_naming_who_has_it():
    klass, _ = classes.create(db.engine(), identity.of_browser(TEACHER), "Period 3")
    classes.join(db.engine(), klass, identity.of_browser(ALICE), "Ada")
    at = page(BOB, {"join": klass.code})
    at.text_input(key="class_join_as").set_value("\u0430da")  # a Cyrillic а
    at.form_submit_button[0].click().run()
    assert any("reads the same, Ada" in e for e in errors(at))
    at.run()  # a later run keeps it
    assert any("reads the same, Ada" in e for e in errors(at))
    at.text_input(key="class_join_as").set_value("Bob")
    at.form_submit_button[0].click().run()
    assert any("You are in this class as Bob" in c.value for c in at.caption)
    assert [m.name for m in classes.members_of(db.engine(), klass)] == ["Ada", "Bob"]


def test_a_closed_class_stays_in_your_classes_marked_closed_and_its_board_readable():
    engine = db.engine()
    klass, _ = classes.create(engine, identity.of_browser(TEACHER), "Period 3")
    classes.join(engine, klass, identity.of_browser(ALICE), "Ada")
    classes.close(engine, klass, identity.of_browser(TEACHER))
    at = page(ALICE)
    assert any(t.value == f"Period 3 · {klass.code} · student, as Ada · closed" for t in at.text)
    at.button(key=f"class_open_{klass.id}").click().run()
    assert any("closed it: the board stays readable" in c.value for c in at.caption)


def test_the_teacher_opens_a_hidden_entry_in_explore_and_sees_the_hidden_column():
    engine = db.engine()
    teacher = identity.of_browser(TEACHER)
    klass, _ = classes.create(engine, teacher, "Period 3")
    classes.join(engine, klass, identity.of_browser(ALICE), "Ada")
    torch.manual_seed(5)
    model = keep_model("adas-model", checkpoint.to_bytes(VAE(VAEConfig(latent_dim=2, hidden=(16,)))), key=ALICE)
    entry = classes.submit(engine, klass, identity.of_browser(ALICE), model.id, FIGURES,
                           png_bytes(np.zeros((28, 28), np.uint8)))
    classes.set_hidden(engine, klass, teacher, entry, True)
    at = page(TEACHER, {"class": klass.code})
    frame = at.dataframe[0].value
    assert list(frame.columns[:2]) == ["hidden", "same file as"] and list(frame["hidden"]) == [True]
    assert not any("measured by this server" in c.value for c in at.caption)  # another server may have measured it
    opener = at.button(key=f"board_open_{klass.id}")
    assert not opener.disabled
    opener.click().run()
    assert not at.exception and at.header[0].value == "Explore the latent space"
    assert at.sidebar.selectbox(key="model").value == "adas-model"


def test_an_uncaught_exception_reaches_the_browser_without_its_traceback():
    """As shipped (.streamlit/config.toml), the browser gets a generic message: no traceback, no type, no message.
    AppTest's tests still see that an exception happened (and, under tests/app/conftest's "full", what it was)."""
    shipped = tomllib.loads((ROOT / ".streamlit" / "config.toml").read_text())["client"]["showErrorDetails"]
    from streamlit.testing.v1 import AppTest

    def script():
        raise RuntimeError("a secret detail in /srv/app/classroom/db.py")

    config.set_option("client.showErrorDetails", shipped)
    at = AppTest.from_function(script).run()
    (box,) = at.exception
    assert box.stack_trace == [] and "secret" not in box.value and not box.proto.type
    config.set_option("client.showErrorDetails", "full")
    at = AppTest.from_function(script).run()
    assert "a secret detail" in at.exception[0].value and at.exception[0].stack_trace
