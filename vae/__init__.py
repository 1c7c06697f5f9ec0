"""VAE Latent Explorer's library: model, objective, data, trainer, checkpoints, latent tools.

UI-free: nothing here imports streamlit, so it works from a notebook or the command line
(`python -m vae --help`).
"""
from .config import ConfigError, VAEConfig
from .model import VAE, resolve_device

__all__ = ["VAE", "VAEConfig", "ConfigError", "resolve_device"]
