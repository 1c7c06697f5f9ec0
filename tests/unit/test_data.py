import gzip
import hashlib

import numpy as np
import pytest
import torch

from vae.data import (
    ASSETS,
    IDX_IMAGES_MAGIC,
    DataError,
    load_dataset,
    load_sample,
    read_idx,
    read_split_from,
)


def write_idx(path, array, magic):
    header = magic.to_bytes(4, "big") + b"".join(n.to_bytes(4, "big") for n in array.shape)
    data = header + array.astype(np.uint8).tobytes()
    path.write_bytes(gzip.compress(data) if path.suffix == ".gz" else data)


def fake_split(folder, n=5, gz=False):
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(0)
    images, labels = rng.integers(0, 256, (n, 28, 28)), rng.integers(0, 10, n)
    suffix = ".gz" if gz else ""
    write_idx(folder / f"t10k-images-idx3-ubyte{suffix}", images, 2051)
    write_idx(folder / f"t10k-labels-idx1-ubyte{suffix}", labels, 2049)
    return images, labels


def test_real_mnist_from_the_configured_folder(mnist_test, mnist_train, mnist_dir):
    assert mnist_test.images.shape == (10_000, 28, 28) and mnist_test.images.dtype == torch.uint8
    assert mnist_train.images.shape == (60_000, 28, 28)
    assert mnist_test.labels.bincount().tolist() == [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]
    assert mnist_train.to_float().mean().item() == pytest.approx(0.1307, abs=1e-4)
    sums = dict(reversed(line.split()) for line in (mnist_dir / "MNIST/raw/SHA256SUMS").read_text().splitlines())
    raw = (mnist_dir / "MNIST/raw/t10k-images-idx3-ubyte").read_bytes()
    assert hashlib.sha256(raw).hexdigest() == sums["t10k-images-idx3-ubyte"]


def test_float_view_is_one_tensor_in_unit_range(mnist_test):
    x = mnist_test.to_float()
    assert x.shape == (10_000, 784) and x.dtype == torch.float32
    assert x.min() == 0.0 and x.max() == 1.0


def test_shipped_sample_is_real_mnist_and_small(mnist_test):
    sample = load_sample()
    assert (ASSETS / "mnist-test-sample.npz").stat().st_size <= 1_000_000
    assert len(sample) == 2000 and sample.is_sample
    assert torch.equal(sample.images, mnist_test.images[:2000])
    assert torch.equal(sample.labels, mnist_test.labels[:2000])


@pytest.mark.parametrize("layout", ["MNIST/raw", "raw", "."])
@pytest.mark.parametrize("gz", [False, True])
def test_layouts_and_gzip(tmp_path, layout, gz):
    images, labels = fake_split(tmp_path / layout, gz=gz)
    split = read_split_from(tmp_path, "mnist", "test")
    assert np.array_equal(split.images.numpy(), images) and np.array_equal(split.labels.numpy(), labels)


def test_truncated_file_gives_a_clear_error(tmp_path):
    fake_split(tmp_path)
    path = tmp_path / "t10k-images-idx3-ubyte"
    path.write_bytes(path.read_bytes()[:-10])
    with pytest.raises(DataError, match="truncated or corrupt"):
        read_split_from(tmp_path, "mnist", "test")


def test_wrong_magic_and_bad_gzip(tmp_path):
    path = tmp_path / "x-idx3-ubyte"
    path.write_bytes(b"\x00\x00\x08\x01" + bytes(12))
    with pytest.raises(DataError, match="magic number 2049, expected 2051"):
        read_idx(path, IDX_IMAGES_MAGIC)
    bad = tmp_path / "y.gz"
    bad.write_bytes(b"not gzip at all")
    with pytest.raises(DataError, match="not a readable gzip"):
        read_idx(bad, IDX_IMAGES_MAGIC)


def test_label_count_mismatch(tmp_path):
    fake_split(tmp_path, n=5)
    write_idx(tmp_path / "t10k-labels-idx1-ubyte", np.zeros(4), 2049)
    with pytest.raises(DataError, match="5 images but 4 labels"):
        read_split_from(tmp_path, "mnist", "test")


def test_missing_folder_falls_back_to_the_sample_with_a_notice(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # no ./data here
    dataset = load_dataset("mnist", "train", data_dir=tmp_path / "nowhere", download=False)
    assert dataset.is_sample and len(dataset) == 2000
    assert "nowhere: no such folder" in dataset.notice and "download skipped" in dataset.notice


def test_strict_mode_raises_for_the_configured_folder(tmp_path):
    with pytest.raises(DataError, match="not found"):
        load_dataset("mnist", "test", data_dir=tmp_path, download=False, fallback=False)


def test_environment_variable_and_dot_data(tmp_path, monkeypatch):
    images, _ = fake_split(tmp_path / "env" / "MNIST" / "raw")
    monkeypatch.setenv("VAE_DATA_DIR", str(tmp_path / "env"))
    assert np.array_equal(load_dataset("mnist", "test", download=False).images.numpy(), images)
    monkeypatch.delenv("VAE_DATA_DIR")
    monkeypatch.chdir(tmp_path)
    fake_split(tmp_path / "data" / "MNIST" / "raw", n=3)
    assert len(load_dataset("mnist", "test", download=False)) == 3


def test_subset_and_bad_names():
    sample = load_sample()
    assert len(sample.subset(10)) == 10
    with pytest.raises(DataError, match="at least one"):
        sample.subset(0)
    with pytest.raises(DataError, match="unknown dataset"):
        load_dataset("cifar", "test")
    with pytest.raises(DataError, match="unknown split"):
        load_dataset("mnist", "valid")


FASHION_SYSTEM_DIR = "/usr/share/datasets/fashion-mnist"


def test_fashion_mnist_from_the_debian_package_location(tmp_path, monkeypatch):
    """Debian's dataset-fashion-mnist (CI installs it): found with no folder configured."""
    import os

    if not os.path.isdir(FASHION_SYSTEM_DIR):
        if os.environ.get("CI"):
            raise AssertionError(f"CI installs dataset-fashion-mnist; {FASHION_SYSTEM_DIR} is missing")
        pytest.skip("Debian's dataset-fashion-mnist is not installed (apt-get install dataset-fashion-mnist)")
    monkeypatch.delenv("VAE_DATA_DIR", raising=False)
    monkeypatch.chdir(tmp_path)
    test = load_dataset("fashion-mnist", "test", download=False)
    assert test.source == FASHION_SYSTEM_DIR and len(test) == 10_000 and test.notice is None
    assert test.labels.bincount().tolist() == [1000] * 10
    sample = load_sample("fashion-mnist")
    assert torch.equal(sample.images, test.images[:1000])
    train = load_dataset("fashion-mnist", "train", download=False)
    assert len(train) == 60_000


def test_fashion_mnist_system_folder_is_tried_after_the_configured_ones(tmp_path, monkeypatch):
    import dataclasses

    from vae import data

    system = tmp_path / "system"
    images, labels = fake_split(system, n=7, gz=True)
    monkeypatch.setitem(data.DATASETS, "fashion-mnist", dataclasses.replace(data.DATASETS["fashion-mnist"],
                                                                            system_dir=str(system)))
    monkeypatch.chdir(tmp_path)
    found = load_dataset("fashion-mnist", "test", data_dir=tmp_path / "nowhere", download=False)
    assert found.source == str(system) and len(found) == 7
    assert "configured folder failed" in found.notice
    assert np.array_equal(found.images.numpy(), images)


def test_without_any_fashion_data_the_shipped_sample_is_used(tmp_path, monkeypatch):
    import dataclasses

    from vae import data

    monkeypatch.setitem(data.DATASETS, "fashion-mnist", dataclasses.replace(data.DATASETS["fashion-mnist"],
                                                                            system_dir=str(tmp_path / "none")))
    monkeypatch.chdir(tmp_path)
    found = load_dataset("fashion-mnist", "test", data_dir=tmp_path / "nowhere", download=False)
    assert found.is_sample and len(found) == 1000 and "fashion-mnist was not found" in found.notice
    assert (ASSETS / "fashion-mnist-test-sample.npz").stat().st_size <= 1_000_000
