"""Checkpoints: one safetensors file holding the weights, with the config and metrics as JSON in its header.

Nothing here unpickles: safetensors stores raw tensors plus a JSON header, which is read with
`json` and checked against a freshly built model (names, shapes, dtype, finite values) before
any weight is used. Files are written atomically: a temporary file in the same folder, fsync,
then rename, so a crash mid-save leaves the previous checkpoint whole.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import torch

from . import catalog
from .catalog import (EXTRA_PREFIX, FORMAT, VERSION, CheckpointError, parse_metadata,  # noqa: F401 (re-exported)
                      read_header, write_atomic)
from .config import VAEConfig
from .model import VAE

MAX_CHECKPOINT_BYTES = catalog.MAX_CHECKPOINT_BYTES


@dataclass
class Checkpoint:
    model: VAE
    config: VAEConfig
    metrics: dict = field(default_factory=dict)
    meta: dict = field(default_factory=dict)  # e.g. the command that reproduces it
    extras: dict[str, torch.Tensor] = field(default_factory=dict)


def to_bytes(model: VAE, metrics: dict | None = None, meta: dict | None = None,
             extras: dict[str, torch.Tensor] | None = None) -> bytes:
    """Serialise a model (and optional extra tensors, e.g. precomputed latent means) to safetensors bytes."""
    from safetensors.torch import save

    tensors = {name: t.detach().to("cpu", torch.float32).contiguous() for name, t in model.state_dict().items()}
    for name, tensor in (extras or {}).items():
        tensors[EXTRA_PREFIX + name] = tensor.detach().cpu().contiguous()
    header = {"format": FORMAT, "version": VERSION, "config": json.dumps(model.config.to_dict()),
              "metrics": json.dumps(metrics or {}), "meta": json.dumps(meta or {})}
    return save(tensors, metadata=header)


def save(path: str | Path, model: VAE, metrics: dict | None = None, meta: dict | None = None,
         extras: dict[str, torch.Tensor] | None = None) -> Path:
    """Save a checkpoint atomically; returns its path."""
    return write_atomic(path, to_bytes(model, metrics, meta, extras))


def from_bytes(data: bytes, device: str | torch.device = "cpu") -> Checkpoint:
    """Validate and load checkpoint bytes (a file's or an upload's). Raises CheckpointError on anything off."""
    from safetensors import SafetensorError
    from safetensors.torch import load

    if len(data) > MAX_CHECKPOINT_BYTES:
        raise CheckpointError(f"the file is {len(data) / 2**20:.1f} MiB; checkpoints are limited to "
                              f"{MAX_CHECKPOINT_BYTES // 2**20} MiB")
    config, metrics, meta = parse_metadata(read_header(data))
    try:
        tensors = load(data)
    except (SafetensorError, ValueError, RuntimeError) as exc:
        raise CheckpointError(f"the checkpoint's tensors cannot be read (truncated or corrupt?): {exc}") from None
    extras = {k[len(EXTRA_PREFIX):]: v for k, v in tensors.items() if k.startswith(EXTRA_PREFIX)}
    weights = {k: v for k, v in tensors.items() if not k.startswith(EXTRA_PREFIX)}
    model = VAE(config)
    expected = model.state_dict()
    missing = sorted(set(expected) - set(weights))
    unexpected = sorted(set(weights) - set(expected))
    if missing or unexpected:
        raise CheckpointError("the weights do not match the config's architecture: "
                              + "; ".join(filter(None, [missing and f"missing {', '.join(missing)}",
                                                        unexpected and f"unexpected {', '.join(unexpected)}"])))
    for name, tensor in weights.items():
        if tensor.shape != expected[name].shape:
            raise CheckpointError(f"weight {name} has shape {list(tensor.shape)}, the config needs "
                                  f"{list(expected[name].shape)}")
        if tensor.dtype != torch.float32:
            raise CheckpointError(f"weight {name} is {tensor.dtype}, expected float32")
        if not torch.isfinite(tensor).all():
            raise CheckpointError(f"weight {name} holds NaN or infinite values")
    model.load_state_dict(weights)
    model.eval()
    return Checkpoint(model.to(device), config, metrics, meta, extras)


def load(path: str | Path, device: str | torch.device = "cpu") -> Checkpoint:
    """Load and validate a checkpoint file."""
    path = Path(path)
    if path.is_dir():
        raise CheckpointError(f"{path}: is a folder, not a checkpoint file (.safetensors)")
    try:
        size = path.stat().st_size
    except OSError as exc:
        raise CheckpointError(f"{path}: cannot be read ({exc.strerror})") from None
    if size > MAX_CHECKPOINT_BYTES:
        raise CheckpointError(f"{path}: {size / 2**20:.1f} MiB is over the {MAX_CHECKPOINT_BYTES // 2**20} MiB limit")
    try:
        return from_bytes(path.read_bytes(), device)
    except OSError as exc:
        raise CheckpointError(f"{path}: cannot be read ({exc.strerror})") from None
    except CheckpointError as exc:
        raise CheckpointError(f"{path}: {exc}") from None
