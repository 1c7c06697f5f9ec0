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
