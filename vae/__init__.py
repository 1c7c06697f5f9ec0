"""VAE Latent Explorer's library: model, objective, data, trainer, checkpoints, latent tools.

UI-free: nothing here imports streamlit, so it works from a notebook or the command line
(`python -m vae --help`). torch is imported on first use of a name that needs it, so that
reading checkpoint metadata (`vae.catalog`) stays fast.
"""
from .config import ConfigError, VAEConfig

__all__ = ["VAE", "VAEConfig", "ConfigError", "resolve_device"]


def __getattr__(name):
    if name in ("VAE", "resolve_device"):
        from . import model

        return getattr(model, name)
    raise AttributeError(f"module 'vae' has no attribute {name!r}")
