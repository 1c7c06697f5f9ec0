"""The three layers, one folder each (run one with `pytest tests/unit`, or by marker: `-m "not browser"`):

- unit/     the library and the UI's pure helpers, called directly: no app run, no server
- app/      pages run by Streamlit's AppTest, in this process: widgets, session state, journeys, numbers on screen
- browser/  a real `streamlit run` and Chromium: pixels, the client-side pad, lesson links, a class of browsers

Shared helpers live in tests/support/ (also used by benchmarks/).
"""
import os
from pathlib import Path

import pytest
import torch

# Tests never download: the loader skips torchvision's download when this is set.
os.environ["VAE_OFFLINE"] = "1"
# One thread per pytest-xdist worker (they share the cores), at most two without it; under pytest-xdist what a test
# starts (an app server, the command line, a training process: vae/live/cores.available_cores) takes one thread too,
# as OpenMP teams of two on two busy cores spin against each other.
torch.set_num_threads(1 if os.environ.get("PYTEST_XDIST_WORKER") else min(2, torch.get_num_threads()))
if os.environ.get("PYTEST_XDIST_WORKER"):
    os.environ.setdefault("OMP_NUM_THREADS", "1")
TESTS = Path(__file__).resolve().parent


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


@pytest.fixture(autouse=True)
def state_dir(tmp_path, monkeypatch):
    """Each test its own state folder: the class store's SQLite file and the saved models' files."""
    folder = tmp_path / "state"
    monkeypatch.setenv("VAE_STATE_DIR", str(folder))
    monkeypatch.delenv("VAE_DATABASE_URL", raising=False)
    yield folder
    from classroom import db

    db.forget()


LAYERS = ("unit", "app", "browser")


def pytest_collection_modifyitems(items):
    """Each test carries its folder's layer as a marker (registered in pyproject.toml)."""
    for item in items:
        layer = Path(item.path).relative_to(TESTS).parts[0]
        if layer in LAYERS:
            item.add_marker(layer)


BEHIND_THE_BROWSER = 10  # the nice value of a pytest-xdist worker while it runs a unit or app test


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item):
    """Under pytest-xdist the browser layer is one group on one worker (tests/browser/conftest.py) and the run's
    longest path; it waits on its server and Chromium, so it leaves a core idle half the time. A worker running a unit
    or app test steps behind it (nice 10, inherited by what the test starts), taking the cores the browser does not
    use; a worker starting a browser test steps back to 0 (where the system lets it: as root, as CI runs), before the
    server and Chromium start, so they inherit it."""
    if not os.environ.get("PYTEST_XDIST_WORKER"):
        return
    wanted = 0 if "browser" in item.keywords else BEHIND_THE_BROWSER
    if os.getpriority(os.PRIO_PROCESS, 0) != wanted:
        try:
            os.setpriority(os.PRIO_PROCESS, 0, wanted)
        except PermissionError:  # raising a priority needs CAP_SYS_NICE: then it stays as it is
            pass
