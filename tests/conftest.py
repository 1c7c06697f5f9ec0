import os
from pathlib import Path

import pytest
import torch

# Tests never download: the loader skips torchvision's download when this is set.
os.environ["VAE_OFFLINE"] = "1"
torch.set_num_threads(min(2, torch.get_num_threads()))

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="session")
def mnist_dir() -> Path:
    """The real MNIST folder, from VAE_DATA_DIR (CI sets it to ../shared/datasets)."""
    value = os.environ.get("VAE_DATA_DIR")
    if not value:
        pytest.skip("VAE_DATA_DIR is not set: point it at a folder holding MNIST/raw/ (see README)")
    path = Path(value)
    if not (path / "MNIST" / "raw").is_dir():
        pytest.fail(f"VAE_DATA_DIR={value} has no MNIST/raw/ folder")
    return path


@pytest.fixture(scope="session")
def mnist_test(mnist_dir):
    from vae.data import read_split_from

    return read_split_from(mnist_dir, "mnist", "test")


@pytest.fixture(scope="session")
def mnist_train(mnist_dir):
    from vae.data import read_split_from

    return read_split_from(mnist_dir, "mnist", "train")


@pytest.fixture
def small_model():
    from vae import VAE, VAEConfig

    torch.manual_seed(0)
    return VAE(VAEConfig(latent_dim=3, hidden=(32,), sigma_dec=0.5)).eval()


BROWSER_KEY = "A" * 43  # the browser key of AppTest's sessions (no browser runs there to make one)


@pytest.fixture(autouse=True)
def state_dir(tmp_path, monkeypatch):
    """Each test its own state folder: the class store's SQLite file and the saved models' files."""
    folder = tmp_path / "state"
    monkeypatch.setenv("VAE_STATE_DIR", str(folder))
    monkeypatch.delenv("VAE_DATABASE_URL", raising=False)
    yield folder
    from classroom import db

    db.forget()


def keep_model(name: str, data: bytes, key: str = BROWSER_KEY, dataset: str = "mnist"):
    """Checkpoint bytes saved as the model `name` of the browser with `key` (AppTest's, by default)."""
    from classroom import db, identity, models

    return models.save(db.engine(), identity.of_browser(key), name, data, dataset)


def as_browser(at, key: str = BROWSER_KEY):
    """An AppTest session that a browser with `key` opened (the key its ui/browser_key would report)."""
    at.session_state["_browser_key"] = key
    return at


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


@pytest.fixture(scope="module")
def browser():
    """One headless Chromium per browser test module (tests/browser.py)."""
    from tests.browser import chromium

    with chromium() as browser:
        yield browser


@pytest.fixture(scope="module")
def server(mnist_dir, tmp_path_factory):
    """`streamlit run serve.py` for one browser test module, on real MNIST, with its own user-models folder."""
    from tests.browser import streamlit_server

    env = {"VAE_DATA_DIR": str(mnist_dir), "VAE_STATE_DIR": str(tmp_path_factory.mktemp("state"))}
    with streamlit_server(env) as (url, _, _):
        yield url
