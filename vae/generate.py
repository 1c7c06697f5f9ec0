"""Generation, and the sampling the ELBO is made of: prior samples, the reparameterisation with its
Monte-Carlo reconstruction term, and latent traversals."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from .model import reparameterize
from .objective import kl_to_standard_normal, log_likelihood, squared_distance


def prior_codes(n: int, latent_dim: int, temperature: float = 1.0, seed: int = 0) -> torch.Tensor:
    """z ~ N(0, τ²I): `n` codes from the prior at temperature τ (τ = 1 is p(z) itself), [n, latent_dim]."""
    generator = torch.Generator().manual_seed(seed)
    return temperature * torch.randn(n, latent_dim, generator=generator)


def prior_radius(latent_dim: int, temperature: float = 1.0) -> float:
    """√(E‖z‖²) = √d·τ for z ~ N(0, τ²I): the root-mean-square length of a code. Only for large d do the codes
    gather on a shell of that radius (‖z‖'s spread stays about τ/√2 while its mean grows as √d·τ); for d = 2,
    ‖z‖ spreads from 0 to beyond 2τ (`mean_prior_norm`)."""
    return float(np.sqrt(latent_dim) * temperature)


def mean_prior_norm(latent_dim: int, temperature: float = 1.0) -> float:
    """E‖z‖ = τ·√2·Γ((d+1)/2)/Γ(d/2) for z ~ N(0, τ²I) (the mean of a χ distribution with d degrees of freedom):
    1.25τ for d = 2, below the root-mean-square √d·τ."""
    from math import lgamma

    return float(temperature * np.sqrt(2) * np.exp(lgamma((latent_dim + 1) / 2) - lgamma(latent_dim / 2)))


@torch.no_grad()
def pixel_spread(model, temperature: float, samples: int = 200, seed: int = 0) -> float:
    """How much images decoded from z ~ N(0, τ²I) differ from one another: the standard deviation of each pixel
    across `samples` images decode(z), averaged over the pixels."""
    codes = prior_codes(samples, model.config.latent_dim, temperature, seed)
    return float(images_from_codes(model, codes).std(0).mean())


@torch.no_grad()
def images_from_codes(model, z: torch.Tensor, draw: bool = False, seed: int = 0) -> torch.Tensor:
    """The mean of p(x|z), decode(z), or with `draw` one sample x ~ p(x|z), [n, D] in [0, 1]:

    Gaussian: x = decode(z) + σ_dec·ε, ε ~ N(0, I), clipped to [0, 1] for display;
    Bernoulli: x_d ~ Bernoulli(decode(z)_d).
    """
    mean = model.decode(z.to(model.device)).cpu()
    if not draw:
        return mean
    generator = torch.Generator().manual_seed(seed)
    if model.config.likelihood == "bernoulli":
        return torch.bernoulli(mean, generator=generator)
    noise = torch.randn(mean.shape, generator=generator)
    return (mean + model.config.sigma_dec * noise).clamp(0, 1)


@dataclass
class MonteCarloELBO:
    """One image's ELBO estimated the way it is trained: L draws z⁽ˡ⁾ = μ + σ ⊙ ε⁽ˡ⁾ (arrays, float64)."""

    mu: np.ndarray  # [d]
    sigma: np.ndarray  # [d]
    eps: np.ndarray  # [L, d]
    z: np.ndarray  # [L, d]
    log_px_given_z: np.ndarray  # [L]: log p(x|z⁽ˡ⁾), nats
    images: np.ndarray  # [L, D]: decode(z⁽ˡ⁾)
    kl: float  # KL(q(z|x) ‖ p(z)), closed form
    squared_distance: np.ndarray | None = None  # [L]: ‖x − decode(z⁽ˡ⁾)‖²
    sigma_dec: float | None = None  # the σ_dec that scored log p(x|z⁽ˡ⁾) (Gaussian decoders)

    @property
    def reconstruction(self) -> float:
        """(1/L) Σₗ log p(x|z⁽ˡ⁾): the Monte-Carlo estimate of E_q[log p(x|z)]."""
        return float(self.log_px_given_z.mean())

    @property
    def reconstruction_se(self) -> float:
        """The estimate's standard error s/√L, s the standard deviation of the L scores (nan for L = 1); the ELBO's
        too, the KL being exact."""
        size = len(self.log_px_given_z)
        return float(self.log_px_given_z.std(ddof=1) / np.sqrt(size)) if size > 1 else float("nan")

    @property
    def distortion(self) -> float:
        """(1/L) Σₗ ‖x − decode(z⁽ˡ⁾)‖²: the estimate of E_q‖x − x̂‖², the squared error."""
        return float(self.squared_distance.mean())

    @property
    def elbo(self) -> float:
        """(1/L) Σₗ log p(x|z⁽ˡ⁾) − KL(q(z|x) ‖ p(z))."""
        return self.reconstruction - self.kl


@torch.no_grad()
def monte_carlo_elbo(model, x: torch.Tensor, samples: int = 8, seed: int = 0,
                     eps: torch.Tensor | None = None, sigma_dec: float | None = None) -> MonteCarloELBO:
    """The reparameterisation for one image x ([D] or [1, D] in [0, 1]): z⁽ˡ⁾ = μ + σ ⊙ ε⁽ˡ⁾, ε⁽ˡ⁾ ~ N(0, I),
    each decoded and scored by log p(x|z⁽ˡ⁾). `eps` ([L, d]) fixes the noise; else L = `samples` draws (`seed`).
    `sigma_dec` overrides the model's σ_dec in the score."""
    x = x.reshape(1, -1).to(model.device)
    mu, logvar = model.encode(x)
    if eps is None:
        eps = torch.randn(samples, mu.shape[-1], generator=torch.Generator().manual_seed(seed))
    eps = eps.to(mu)
    z = reparameterize(mu, logvar, eps=eps[:, None, :])  # [L, 1, d]
    logits = model.decode_logits(z)
    config = model.config
    sigma = config.sigma_dec if sigma_dec is None else sigma_dec
    scores = log_likelihood(x, logits, config.likelihood, sigma)[:, 0]
    as_numpy = lambda t: t.detach().cpu().double().numpy()  # noqa: E731
    images = torch.sigmoid(logits[:, 0])
    return MonteCarloELBO(as_numpy(mu[0]), as_numpy(torch.exp(0.5 * logvar[0])), as_numpy(eps), as_numpy(z[:, 0]),
                          as_numpy(scores), as_numpy(images), float(kl_to_standard_normal(mu, logvar)[0]),
                          as_numpy(squared_distance(x, images)), sigma if config.likelihood == "gaussian" else None)


def std_with_error(values, resamples: int = 1000, seed: int = 0) -> tuple[float, float]:
    """The sample standard deviation s = √(Σ (vᵢ − v̄)² / (n − 1)) of n ≥ 2 values, and its standard error by the
    bootstrap (the std of s over `resamples` resamplings with replacement): a heavy tail shows as a large error,
    where a larger n can give a larger s by chance."""
    values = np.asarray(values, dtype=np.float64)
    if values.size < 2:
        raise ValueError(f"a standard deviation needs at least 2 values, got {values.size}")
    rng = np.random.default_rng(seed)
    boot = values[rng.integers(0, values.size, (resamples, values.size))].std(axis=1, ddof=1)
    return float(values.std(ddof=1)), float(boot.std(ddof=1))


@torch.no_grad()
def estimate_spread(model, x: torch.Tensor, sample_sizes=(1, 2, 4, 8, 16, 32, 64), repeats: int = 200,
                    seed: int = 0) -> dict[int, tuple[float, float]]:
    """For each L, the standard deviation over `repeats` fresh draws of the L-sample estimate
    (1/L) Σₗ log p(x|z⁽ˡ⁾), with its bootstrap standard error (`std_with_error`):
    Var = Var[log p(x|z)] / L, so the spread falls as 1/√L."""
    x = x.reshape(1, -1).to(model.device)
    mu, logvar = model.encode(x)
    generator = torch.Generator().manual_seed(seed)
    config = model.config
    spread = {}
    for size in sample_sizes:
        eps = torch.randn(size * repeats, 1, mu.shape[-1], generator=generator).to(mu)
        scores = log_likelihood(x, model.decode_logits(reparameterize(mu, logvar, eps=eps)), config.likelihood,
                                config.sigma_dec)[:, 0]
        spread[size] = std_with_error(scores.reshape(repeats, size).double().mean(1).numpy(), seed=seed)
    return spread


def spread_ratio(model, x: torch.Tensor, small: int = 4, large: int = 16, repeats: int = 2000,
                 seed: int = 0) -> tuple[float, float]:
    """s(L=small) / s(L=large), the ratio of the L-sample reconstruction estimate's spreads over `repeats` fresh
    draws each (`estimate_spread`), and its standard error (σ_r/r = √((σ₁/s₁)² + (σ₂/s₂)²)). Since
    Var = Var[log p(x|z)] / L, it should be √(large/small): 2 from L = 4 to 16."""
    spread = estimate_spread(model, x, (small, large), repeats=repeats, seed=seed)
    (s1, e1), (s2, e2) = spread[small], spread[large]
    ratio = s1 / s2
    return ratio, ratio * float(np.hypot(e1 / s1, e2 / s2))


def dimensions_by_kl(kl_per_dim) -> list[int]:
    """Latent dimensions ordered by their KL, largest first: the active ones lead, the collapsed ones trail."""
    return [int(i) for i in np.argsort(-np.asarray(kl_per_dim, dtype=np.float64), kind="stable")]


@torch.no_grad()
def image_kl_per_dim(model, x: torch.Tensor) -> list[float]:
    """One image's KL(q(z_i|x) ‖ N(0, 1)) = ½(σᵢ² + μᵢ² − 1 − log σᵢ²) for each latent dimension i."""
    from .objective import kl_per_dimension

    return kl_per_dimension(*model.encode(x.reshape(1, -1).float()))[0].tolist()


@dataclass(frozen=True)
class TraversalRows:
    """Which dimensions a traversal shows: `shown` by KL, largest first; `inactive` those with KL ≤ the threshold;
    `hidden` the inactive ones past the first `keep_inactive`, which would only repeat what "inactive" looks like."""
    shown: list[int]
    inactive: list[int]
    hidden: list[int]


def traversal_rows(kl_per_dim, keep_inactive: int = 3) -> TraversalRows:
    from .collapse import ACTIVE_THRESHOLD

    order = dimensions_by_kl(kl_per_dim)
    inactive = [d for d in order if kl_per_dim[d] <= ACTIVE_THRESHOLD]
    hidden = inactive[keep_inactive:]
    return TraversalRows([d for d in order if d not in hidden], inactive, hidden)


@torch.no_grad()
def traversal(model, base: torch.Tensor, dims, values) -> torch.Tensor:
    """Row r, column c: decode(z) with z = `base` except z[dims[r]] = values[c]; [len(dims), len(values), D]."""
    values = torch.as_tensor(np.asarray(values, dtype=np.float32))
    z = base.reshape(1, 1, -1).repeat(len(dims), len(values), 1).to(torch.float32)
    for row, dim in enumerate(dims):
        z[row, :, dim] = values
    return model.decode(z.to(model.device)).cpu()
