"""The ELBO's parts as σ_dec moves, for a fixed encoder and decoder (the ELBO page's numbers)."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from .model import reparameterize
from .objective import (beta_equivalent, bits_per_dim, gaussian_log_normalizer, gaussian_squared_error_term,
                        kl_to_standard_normal, optimal_sigma_dec)


@dataclass
class SigmaSweep:
    """Per σ in `sigmas` and per example: arrays [len(sigmas), batch] in nats (bits: `to_bits`)."""

    sigmas: np.ndarray
    squared_error: np.ndarray  # −‖x − x̂‖²/(2σ²), averaged over the z samples
    constant: np.ndarray  # −(D/2)·log(2πσ²)
    kl: np.ndarray  # KL(q(z|x) ‖ p(z)), the same for every σ
    sigma_star: np.ndarray  # [batch]: √(per-pixel MSE) of each example
    sigma_star_batch: float  # the σ that maximises the batch-mean ELBO
    data_dim: int

    @property
    def reconstruction(self) -> np.ndarray:
        return self.squared_error + self.constant

    @property
    def elbo(self) -> np.ndarray:
        return self.reconstruction - self.kl

    def to_bits(self, nats: np.ndarray) -> np.ndarray:
        """Nats per image → bits per dimension (sign kept: a term of −x nats is −x/(D ln 2) bits)."""
        return -bits_per_dim(nats, self.data_dim)

    def betas(self) -> np.ndarray:
        return np.array([beta_equivalent(s) for s in self.sigmas])


@torch.no_grad()
def sigma_sweep(model, x: torch.Tensor, sigmas, samples: int = 8, seed: int = 0) -> SigmaSweep:
    """Evaluate the ELBO's parts at every σ in `sigmas` with the same z samples (fixed seed).

    x: [batch, D] in [0, 1]. The decoder output does not depend on σ, so it is computed once.
    """
    model.eval()
    x = x.flatten(1).to(model.device)
    mu, logvar = model.encode(x)
    generator = torch.Generator(x.device).manual_seed(seed)
    x_hat = model.decode(reparameterize(mu, logvar, samples, generator))
    sigmas = np.asarray(sigmas, dtype=np.float64)
    d = x.shape[-1]
    squared = np.stack([gaussian_squared_error_term(x, x_hat, float(s)).mean(0).cpu().numpy() for s in sigmas])
    constant = np.stack([np.full(x.shape[0], gaussian_log_normalizer(d, float(s))) for s in sigmas])
    kl = np.broadcast_to(kl_to_standard_normal(mu, logvar).cpu().numpy(), squared.shape)
    stars = np.array([optimal_sigma_dec(x[i], x_hat[:, i]) for i in range(x.shape[0])])
    return SigmaSweep(sigmas, squared, constant, kl, stars, optimal_sigma_dec(x, x_hat), d)
