"""The VAE network: MLP encoder q_φ(z|x) = N(μ, diag σ²) and MLP decoder p_θ(x|z)."""
from __future__ import annotations

import torch
from torch import nn

from .config import VAEConfig


def resolve_device(name: str | None = "auto") -> torch.device:
    """'auto' (or None) picks CUDA when there is one, else the CPU; any other name is used as given."""
    if name in (None, "auto"):
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    device = torch.device(name)
    if device.type == "cuda" and not torch.cuda.is_available():
        raise RuntimeError(f"device {name!r} was asked for, but this machine has no CUDA device")
    return device


def reparameterize(mu: torch.Tensor, logvar: torch.Tensor, samples: int = 1,
                   generator: torch.Generator | None = None, eps: torch.Tensor | None = None) -> torch.Tensor:
    """z = μ + σ ⊙ ε with ε ~ N(0, I), σ = exp(½ log σ²): shape [samples, batch, latent_dim].

    `eps` ([samples, batch, latent_dim]) may be given, drawn elsewhere; else it is drawn here.
    """
    if eps is None:
        eps = torch.randn((samples, *mu.shape), generator=generator, device=mu.device, dtype=mu.dtype)
    return mu + eps * torch.exp(0.5 * logvar)


def _mlp(widths: list[int]) -> nn.Sequential:
    layers: list[nn.Module] = []
    for i, (n_in, n_out) in enumerate(zip(widths[:-1], widths[1:])):
        layers.append(nn.Linear(n_in, n_out))
        if i < len(widths) - 2:
            layers.append(nn.ReLU())
    return nn.Sequential(*layers)


class VAE(nn.Module):
    """x (flattened, in [0, 1]) → encoder → (μ, log σ²) → z → decoder → logits over pixels.

    The decoder's mean image is sigmoid(logits) for both likelihoods: the Gaussian mean lies in
    [0, 1] like the data; the Bernoulli model reads the same logits as per-pixel log-odds.
    """

    def __init__(self, config: VAEConfig):
        super().__init__()
        self.config = config
        widths = [config.data_dim, *config.hidden]
        self.encoder = _mlp([*widths, 2 * config.latent_dim])
        self.decoder = _mlp([config.latent_dim, *reversed(config.hidden), config.data_dim])

    @property
    def device(self) -> torch.device:
        return next(self.parameters()).device

    def encode(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """(μ, log σ²) of q_φ(z|x), each [batch, latent_dim]."""
        mu, logvar = self.encoder(x.flatten(1)).chunk(2, dim=-1)
        return mu, logvar

    def decode_logits(self, z: torch.Tensor) -> torch.Tensor:
        """Decoder output before the sigmoid, [..., D]."""
        return self.decoder(z)

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        """Mean image in [0, 1], [..., D]."""
        return torch.sigmoid(self.decoder(z))

    def forward(self, x: torch.Tensor, samples: int = 1, generator: torch.Generator | None = None,
                eps: torch.Tensor | None = None):
        """One pass: (logits [samples, batch, D], μ, log σ², z)."""
        mu, logvar = self.encode(x)
        z = reparameterize(mu, logvar, samples, generator, eps)
        return self.decode_logits(z), mu, logvar, z
