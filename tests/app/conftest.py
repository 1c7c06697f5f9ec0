"""AppTest runs each page through app.py's navigation, as a server does."""
import pytest


@pytest.fixture(autouse=True)
def app_runs_through_its_entrypoint(monkeypatch):
    """AppTest resets Streamlit's "legacy pages/ folder" flag before every run, so each run of a page would first
    be a legacy run of the page alone, rerouted by ui.shell.require_app (a rerun that drops a click). A real
    server clears the flag once, at the first st.navigation call; here it is cleared as each run starts."""
    from streamlit.runtime.pages_manager import PagesManager
    from streamlit.testing.v1 import app_test

    class EntrypointPages(PagesManager):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            PagesManager.uses_pages_directory = False

    monkeypatch.setattr(app_test, "PagesManager", EntrypointPages)


@pytest.fixture(autouse=True)
def exception_details():
    """The browser gets no exception's details (.streamlit/config.toml: client.showErrorDetails = "none"); AppTest's
    tests read them (to say what failed, or to check a message), so here they are in full."""
    from streamlit import config

    shipped = config.get_option("client.showErrorDetails")
    config.set_option("client.showErrorDetails", "full")
    yield
    config.set_option("client.showErrorDetails", shipped)


@pytest.fixture
def quick_scoring(monkeypatch) -> int:
    """Save scores the model with IWAE K = 5 instead of the page's 100 (10,000 × 100 decodes: 15 s here, twice where
    a test computes the figures again), set as a server's operator sets it ($VAE_SCORE_IW_SAMPLES); the K it uses."""
    from ui import evaluation

    monkeypatch.setenv(evaluation.K_VARIABLE, "5")
    return 5


@pytest.fixture
def sessions():
    """AppTest sessions of the Train page; their training processes are stopped afterwards."""
    made = []
    yield made
    for at in made:
        run = at.session_state["live_run"] if "live_run" in at.session_state else None
        if run is not None:
            run.trainer.stop()
