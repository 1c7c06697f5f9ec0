"""AppTest sessions as a browser opens them, the shipped models, and the command line as a user runs it."""
from __future__ import annotations

from streamlit.testing.v1 import AppTest

from tests.support import ROOT

BROWSER_KEY = "A" * 43  # the browser key of AppTest's sessions (no browser runs there to make one)
PAGES = ["pages/explore.py", "pages/interpolate.py", "pages/elbo.py", "pages/train.py", "pages/models.py",
         "pages/generate.py", "pages/reparameterisation.py",
         "pages/posterior.py", "pages/rate_distortion.py", "pages/draw.py", "pages/class.py", "pages/learn.py",
         "pages/lesson.py", "pages/gaps.py"]
NLL_MODEL = "mnist-bernoulli-50d"
SHIPPED = sorted(p.name.removesuffix(".safetensors") for p in (ROOT / "checkpoints").glob("*.safetensors"))



def keep_model(name: str, data: bytes, key: str = BROWSER_KEY, dataset: str = "mnist"):
    """Checkpoint bytes saved as the model `name` of the browser with `key` (AppTest's, by default)."""
    from classroom import db, identity, models

    return models.save(db.engine(), identity.of_browser(key), name, data, dataset)


def as_browser(at: AppTest, key: str = BROWSER_KEY) -> AppTest:
    """An AppTest session that a browser with `key` opened (the key its ui/browser_key would report)."""
    at.session_state["_browser_key"] = key
    return at


def session(key: str = BROWSER_KEY, timeout: float = 240) -> AppTest:
    """A new AppTest session of app.py, as a browser with `key` opens it: the one way the tests open the app."""
    return as_browser(AppTest.from_file(str(ROOT / "app.py"), default_timeout=timeout), key)


def open_page(page: str, model: str | None = None, query: dict | None = None, key: str = BROWSER_KEY) -> AppTest:
    """`page` (a pages/*.py path) opened through app.py's navigation on `model`, with `query` in the URL."""
    at = session(key)
    at.switch_page(page)
    if model:
        at.session_state["model"] = model
    at.query_params.update(query or {})
    at.run()
    at.switch_page(page).run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def metric(at: AppTest, label: str) -> str:
    return next(m.value for m in at.metric if m.label == label)
