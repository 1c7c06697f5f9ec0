"""MNIST-style data: found on disk in torchvision's layout, downloaded, or the shipped sample.

Where the loader looks, in order:
  1. the configured folder: the `data_dir` argument, else the environment variable VAE_DATA_DIR;
  2. `./data` (where a download lands);
  3. the system folder of a Debian package (Fashion-MNIST: /usr/share/datasets/fashion-mnist);
  4. torchvision's download into `./data` (skipped offline: VAE_OFFLINE=1 or download=False);
  5. a small real sample shipped in `vae/assets/` (MNIST: 2,000 test digits; Fashion-MNIST: 1,000), with a notice.
In a folder, the IDX files may sit in `<dir>/<Folder>/raw/` (torchvision's layout), `<dir>/raw/`
or `<dir>/` itself, each uncompressed or gzipped.
The whole split is held as one uint8 tensor; `to_float` puts it on the device once.
torch is imported on first use, so the registry (`DATASETS`) is cheap to import.
"""
from __future__ import annotations

import gzip
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

ASSETS = Path(__file__).parent / "assets"
IDX_IMAGES_MAGIC = 2051
IDX_LABELS_MAGIC = 2049
MAX_IDX_BYTES = 256 * 2**20  # a decompressed IDX file larger than this is refused (the largest real one is 47 MB)


@dataclass(frozen=True)
class DatasetInfo:
    name: str
    folder: str  # torchvision's folder name under the root
    torchvision_class: str
    system_dir: str | None
    sample_file: str | None
    classes: tuple[str, ...]
    noun: str = "image"  # what one example is called in the app: "digit", "garment"
    title: str = ""  # the data set's name as people write it: "MNIST", "Fashion-MNIST"


DATASETS = {
    "mnist": DatasetInfo("mnist", "MNIST", "MNIST", None, "mnist-test-sample.npz",
                         tuple(str(i) for i in range(10)), "digit", "MNIST"),
    "fashion-mnist": DatasetInfo("fashion-mnist", "FashionMNIST", "FashionMNIST",
                                 "/usr/share/datasets/fashion-mnist", "fashion-mnist-test-sample.npz",
                                 ("T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
                                  "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"), "garment", "Fashion-MNIST"),
}
SPLIT_FILES = {"train": ("train-images-idx3-ubyte", "train-labels-idx1-ubyte"),
               "test": ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte")}


class DataError(RuntimeError):
    """Data that cannot be found or read; the message says where it looked and what was wrong."""


@dataclass
class Dataset:
    """One split held in memory: images uint8 [N, H, W], labels int64 [N]."""

    name: str
    split: str
    images: "torch.Tensor"
    labels: "torch.Tensor"
    source: str
    notice: str | None = None

    def __len__(self) -> int:
        return self.images.shape[0]

    @property
    def is_sample(self) -> bool:
        return self.source == "shipped sample"

    def subset(self, limit: int | None) -> "Dataset":
        """The first `limit` examples (all when limit is None)."""
        if limit is None:
            return self
        if limit < 1:
            raise DataError(f"a subset needs at least one example, got limit={limit}")
        return Dataset(self.name, self.split, self.images[:limit], self.labels[:limit], self.source, self.notice)

    def to_float(self, device: "torch.device | str" = "cpu") -> "torch.Tensor":
        """All images as one float32 tensor [N, D] in [0, 1] on `device`."""
        return self.images.to(device).flatten(1).float().div_(255.0)


def _read_bytes(path: Path) -> bytes:
    """The file's bytes, gunzipped for .gz; at most MAX_IDX_BYTES (a gzip bomb is refused, not inflated)."""
    try:
        opener = gzip.open if path.suffix == ".gz" else open
        with opener(path, "rb") as f:
            data = f.read(MAX_IDX_BYTES + 1)
    except (OSError, EOFError) as exc:
        raise DataError(f"{path}: not a readable {'gzip ' if path.suffix == '.gz' else ''}file ({exc})") from None
    if len(data) > MAX_IDX_BYTES:
        raise DataError(f"{path}: more than {MAX_IDX_BYTES // 2**20} MiB once decompressed; "
                        "no MNIST-style file is that large (a zip bomb?)")
    return data


def read_idx(path: Path, magic: int) -> np.ndarray:
    """Parse an IDX file (big-endian header: magic, then one uint32 per dimension; then uint8 data)."""
    data = _read_bytes(path)
    ndim = 3 if magic == IDX_IMAGES_MAGIC else 1
    header = 4 * (1 + ndim)
    if len(data) < header:
        raise DataError(f"{path}: too short to be an IDX file ({len(data)} bytes)")
    found = int.from_bytes(data[:4], "big")
    if found != magic:
        raise DataError(f"{path}: not an IDX {'image' if ndim == 3 else 'label'} file "
                        f"(magic number {found}, expected {magic})")
    shape = tuple(int.from_bytes(data[4 + 4 * i: 8 + 4 * i], "big") for i in range(ndim))
    expected = header + int(np.prod(shape))
    if len(data) != expected:
        raise DataError(f"{path}: truncated or corrupt ({len(data)} bytes, the header promises {expected})")
    return np.frombuffer(data, dtype=np.uint8, offset=header).reshape(shape)


def _find_file(folder: Path, info: DatasetInfo, stem: str) -> Path | None:
    for base in (folder / info.folder / "raw", folder / "raw", folder):
        for name in (stem, stem + ".gz"):
            if (base / name).is_file():
                return base / name
    return None


def read_split_from(folder: Path, name: str, split: str) -> Dataset:
    """Read one split from a folder, or raise DataError saying what is missing or wrong."""
    info = DATASETS[name]
    if not folder.is_dir():
        raise DataError(f"{folder}: no such folder")
    paths = [_find_file(folder, info, stem) for stem in SPLIT_FILES[split]]
    missing = [stem for stem, p in zip(SPLIT_FILES[split], paths) if p is None]
    if missing:
        raise DataError(f"{folder}: {', '.join(missing)} not found (looked in {info.folder}/raw/, raw/ and the folder itself)")
    images = read_idx(paths[0], IDX_IMAGES_MAGIC)
    labels = read_idx(paths[1], IDX_LABELS_MAGIC)
    if images.shape[0] != labels.shape[0]:
        raise DataError(f"{folder}: {images.shape[0]} images but {labels.shape[0]} labels")
    if labels.size and labels.max() >= len(info.classes):
        raise DataError(f"{paths[1]}: label {labels.max()} is out of range 0–{len(info.classes) - 1}")
    import torch

    return Dataset(name, split, torch.from_numpy(images.copy()), torch.from_numpy(labels.astype(np.int64)),
                   str(paths[0].parent))


def load_sample(name: str = "mnist") -> Dataset:
    """The real sample shipped in the package (the first 2,000 MNIST or 1,000 Fashion-MNIST test images)."""
    info = DATASETS[name]
    if info.sample_file is None:
        raise DataError(f"no sample of {name} is shipped")
    with np.load(ASSETS / info.sample_file) as arrays:
        images, labels = arrays["images"], arrays["labels"]
    import torch

    return Dataset(name, "test", torch.from_numpy(images), torch.from_numpy(labels.astype(np.int64)), "shipped sample")


def _download(name: str, split: str, root: Path) -> Dataset:
    import torchvision  # lazy: heavy, and only needed online

    cls = getattr(torchvision.datasets, DATASETS[name].torchvision_class)
    cls(str(root), train=(split == "train"), download=True)
    return read_split_from(root, name, split)


def configured_data_dir() -> Path | None:
    value = os.environ.get("VAE_DATA_DIR")
    return Path(value).expanduser() if value else None


def load_dataset(name: str = "mnist", split: str = "train", data_dir: str | Path | None = None,
                 download: bool | None = None, fallback: bool = True) -> Dataset:
    """Load a split, trying the sources in the module docstring's order.

    With fallback=False a configured folder that fails raises DataError instead of moving on
    (for a command line whose user named the folder). The returned Dataset's `notice` says when
    a source other than the configured one was used, and why.
    """
    if name not in DATASETS:
        raise DataError(f"unknown dataset {name!r}; known: {', '.join(DATASETS)}")
    if split not in SPLIT_FILES:
        raise DataError(f"unknown split {split!r}; use 'train' or 'test'")
    if download is None:
        download = os.environ.get("VAE_OFFLINE", "") in ("", "0")
    configured = Path(data_dir).expanduser() if data_dir is not None else configured_data_dir()
    problems: list[str] = []
    folders = [configured, Path("data")]
    if DATASETS[name].system_dir:
        folders.append(Path(DATASETS[name].system_dir))
    for i, folder in enumerate(folders):
        if folder is None:
            problems.append("no data folder configured (set VAE_DATA_DIR or pass --data-dir)")
            continue
        try:
            dataset = read_split_from(folder, name, split)
        except DataError as exc:
            if i == 0 and not fallback:
                raise
            problems.append(str(exc))
            continue
        if problems and i > 0 and configured is not None:
            dataset.notice = f"Using {dataset.source}; the configured folder failed: {problems[0]}"
        return dataset
    if download:
        try:
            dataset = _download(name, split, Path("data"))
            dataset.notice = f"Downloaded {name} into ./data"
            return dataset
        except Exception as exc:  # any network or torchvision failure: report and move on
            problems.append(f"download failed: {exc}")
    else:
        problems.append("download skipped (offline)")
    try:
        dataset = load_sample(name)
    except DataError:
        raise DataError(f"{name} {split} split not found. Tried: " + "; ".join(problems)) from None
    dataset.notice = (f"{name} was not found, so the {len(dataset):,} real test images shipped with the project "
                      f"are used in place of the {split} split. Tried: " + "; ".join(problems))
    return dataset
