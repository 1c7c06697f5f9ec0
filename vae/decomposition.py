"""The ELBO's parts as σ_dec moves, for a fixed encoder and decoder (the ELBO page's numbers)."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from .model import reparameterize
from .objective import (beta_equivalent, gaussian_log_normalizer, gaussian_squared_error_term, kl_to_standard_normal,
                        optimal_sigma_dec)
from .units import EIGHT_BIT_NATS, bits_per_dim_8bit, nats_to_bits_per_dim


@dataclass
class Terms:
    """The ELBO's parts in one unit, arrays [len(sigmas), batch]: `parts` (three terms and their sum, for bars)."""

    parts: dict[str, np.ndarray]
    reconstruction: np.ndarray
    kl: np.ndarray
    total: np.ndarray


@dataclass
class SigmaSweep:
    """Per σ in `sigmas` and per example: arrays [len(sigmas), batch] in nats (bits: `in_bits`)."""

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

    def in_nats(self) -> "Terms":
        """The ELBO's terms with the log-likelihood's sign (higher is better), nats per image."""
        parts = {"−‖x − x̂‖² / 2σ²": self.squared_error, "−(D/2)·log 2πσ²": self.constant, "−KL": -self.kl,
                 "ELBO": self.elbo}
        return Terms(parts, self.reconstruction, self.kl, self.elbo)

    def in_bits(self) -> "Terms":
        """The same terms as costs in bits per dimension of 8-bit pixels (lower is better); they add up to
        −ELBO in bits/dim, `bits_per_dim_8bit(ELBO)`, an upper bound on the model's bits/dim. The 8-bit
        bins' D·ln 256 joins the normalising constant."""
        d = self.data_dim
        squared = nats_to_bits_per_dim(-self.squared_error, d)
        constant = nats_to_bits_per_dim(-self.constant + d * EIGHT_BIT_NATS, d)
        kl = nats_to_bits_per_dim(self.kl, d)
        parts = {"‖x − x̂‖² / 2σ²": squared, "(D/2)·log 2πσ² + D·ln 256": constant, "KL": kl,
                 "−ELBO": bits_per_dim_8bit(self.elbo, d)}
        return Terms(parts, squared + constant, kl, parts["−ELBO"])

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
