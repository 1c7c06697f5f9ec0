"""What a checkpoint says about itself, read without importing torch (fast start-up for the app).

The safetensors header is 8 bytes of length, then JSON; our metadata (config, metrics, meta) is
JSON inside it. Extra arrays (precomputed test-set latents) are read with safetensors' numpy API.
"""
from __future__ import annotations

import json
import os
import re
import struct
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .config import ConfigError, VAEConfig

FORMAT = "vae-latent-explorer"
VERSION = "1"
EXTRA_PREFIX = "extra."
MAX_HEADER_BYTES = 1024 * 1024
MAX_CHECKPOINT_BYTES = 64 * 1024 * 1024  # the largest file a loader reads; shipped models are far smaller
SUFFIX = ".safetensors"
NAME_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")


class CheckpointError(ValueError):
    """A file that is not a valid checkpoint of this project; the message says why."""


def _describe_foreign(data: bytes) -> str:
    if data[:2] == b"PK":
        return "it is a zip archive (a torch.save .pt/.pth file is one); such files hold pickles, which can run code"
    if data[:1] == b"\x80":
        return "it is a Python pickle, which can run code when loaded"
    if len(data) < 8:
        return f"the file is only {len(data)} bytes"
    return "its header is not valid safetensors"


def read_header(data: bytes) -> dict:
    """The safetensors JSON header (tensor table plus __metadata__), validated for size and form.

    `data` needs to hold only the file's start (8 bytes + the header).
    """
    if len(data) < 8:
        raise CheckpointError("not a safetensors checkpoint: " + _describe_foreign(data))
    (length,) = struct.unpack("<Q", data[:8])
    if length > MAX_HEADER_BYTES or 8 + length > len(data):
        raise CheckpointError("not a safetensors checkpoint: " + _describe_foreign(data)
                              + ("" if 8 + length <= len(data) else ", or the file is truncated"))
    try:
        header = json.loads(data[8: 8 + length].decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise CheckpointError("not a safetensors checkpoint: " + _describe_foreign(data)) from None
    if not isinstance(header, dict):
        raise CheckpointError("not a safetensors checkpoint: its header is not a JSON object")
    return header


def _json_field(metadata: dict, key: str, required: bool = False) -> dict:
    if key not in metadata:
        if required:
            raise CheckpointError(f"the checkpoint has no {key!r} entry in its metadata")
        return {}
    try:
        value = json.loads(metadata[key])
    except (TypeError, json.JSONDecodeError):
        raise CheckpointError(f"the checkpoint's {key!r} metadata is not valid JSON") from None
    if not isinstance(value, dict):
        raise CheckpointError(f"the checkpoint's {key!r} metadata must be a JSON object")
    return value


def parse_metadata(header: dict) -> tuple[VAEConfig, dict, dict]:
    """(config, metrics, meta) from a header, checking the format tag, version and config."""
    metadata = header.get("__metadata__") or {}
    if not isinstance(metadata, dict) or metadata.get("format") != FORMAT:
        raise CheckpointError(f"a safetensors file, but not a {FORMAT} checkpoint (no format tag in its metadata)")
    if metadata.get("version") != VERSION:
        raise CheckpointError(f"checkpoint version {metadata.get('version')!r} is not supported (expected {VERSION})")
    try:
        config = VAEConfig.from_dict(_json_field(metadata, "config", required=True))
    except (ConfigError, TypeError) as exc:
        raise CheckpointError(f"the checkpoint's config is invalid: {exc}") from None
    return config, _json_field(metadata, "metrics"), _json_field(metadata, "meta")


@dataclass
class CheckpointInfo:
    path: Path
    config: VAEConfig
    metrics: dict = field(default_factory=dict)
    meta: dict = field(default_factory=dict)
    extras: tuple[str, ...] = ()

    @property
    def name(self) -> str:
        return self.path.name.removesuffix(SUFFIX)


def read_info(path: str | Path) -> CheckpointInfo:
    """Config, metrics, meta and the names of extra arrays, from the header alone."""
    path = Path(path)
    try:
        with path.open("rb") as f:
            start = f.read(8)
            length = struct.unpack("<Q", start)[0] if len(start) == 8 else 0
            data = start + f.read(min(length, MAX_HEADER_BYTES))
    except OSError as exc:
        raise CheckpointError(f"{path}: cannot be read ({exc.strerror})") from None
    try:
        header = read_header(data)
        config, metrics, meta = parse_metadata(header)
    except CheckpointError as exc:
        raise CheckpointError(f"{path}: {exc}") from None
    extras = tuple(k[len(EXTRA_PREFIX):] for k in header if k.startswith(EXTRA_PREFIX))
    return CheckpointInfo(path, config, metrics, meta, extras)


def read_extras(path: str | Path) -> dict[str, np.ndarray]:
    """The extra arrays stored with a checkpoint (e.g. test_mu, test_labels), as numpy, no torch needed."""
    from safetensors import safe_open

    with safe_open(str(path), framework="numpy") as f:
        return {k[len(EXTRA_PREFIX):]: f.get_tensor(k) for k in f.keys() if k.startswith(EXTRA_PREFIX)}


def natural_key(name: str) -> list:
    """Sort key that reads the numbers in a name as numbers: sigma0.05 < sigma0.1 < sigma1 < sigma1.5 < sigma2
    (by the characters, sigma1.5 came before sigma1)."""
    stem = name.removesuffix(SUFFIX)
    return [(0, float(part), "") if i % 2 else (1, 0.0, part)
            for i, part in enumerate(re.split(r"(\d+(?:\.\d+)?)", stem))]


def list_checkpoints(folder: str | Path) -> list[CheckpointInfo]:
    """Every readable checkpoint in a folder, in natural order of their names; unreadable files are skipped."""
    folder = Path(folder)
    infos = []
    for path in sorted(folder.glob("*" + SUFFIX), key=lambda p: natural_key(p.name)) if folder.is_dir() else []:
        try:
            path.name.encode("utf-8")  # a name that is not valid UTF-8 cannot be shown or linked: skip it
        except UnicodeEncodeError:
            continue
        try:
            infos.append(read_info(path))
        except CheckpointError:
            continue
    return infos


def checkpoint_path(folder: str | Path, name: str) -> Path:
    """folder/name.safetensors for a user-given name, refusing anything that could leave the folder."""
    name = name.strip().removesuffix(SUFFIX)
    if not NAME_PATTERN.match(name):
        raise ValueError("a model name uses 1–64 letters, digits, '.', '_' or '-', starting with a letter or "
                         f"digit (no path separators); got {name!r}")
    folder = Path(folder).resolve()
    path = (folder / (name + SUFFIX)).resolve()
    if path.parent != folder:
        raise ValueError(f"{name!r} would be saved outside {folder}")
    return path


def write_atomic(path: str | Path, data: bytes) -> Path:
    """Write bytes to `path` through a temporary file in the same folder and an atomic rename."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        os.fchmod(fd, 0o644)  # mkstemp makes 0600; a checkpoint is an ordinary, readable file
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    dir_fd = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)
    return path
