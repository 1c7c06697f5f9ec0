"""The ELBO and its parts, the KL terms, and the importance-sampled log p(x).

Every function returns one value per example (shape [batch], or [..., batch] where samples lead).
Notation: x ∈ [0,1]^D, q_φ(z|x) = N(μ, diag σ²), p(z) = N(0, I), p_θ(x|z) = N(x̂, σ_dec² I)
with x̂ = decode(z) (Gaussian), or Bernoulli(sigmoid(logits)).

Erratum. The tutorial this project started from prints the KL to the prior as
½((σ²)^d + μᵀμ − d log σ²). That is wrong twice: the trace term is a sum over dimensions,
Σᵢ σᵢ², not a power, and the −d is missing. The correct form, implemented below, is
KL(N(μ, diag σ²) ‖ N(0, I)) = ½ Σᵢ (σᵢ² + μᵢ² − 1 − log σᵢ²).
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import torch
import torch.nn.functional as F

from .model import reparameterize

LOG_2PI = math.log(2 * math.pi)


def log_normal_diag(z: torch.Tensor, mu: torch.Tensor, logvar: torch.Tensor) -> torch.Tensor:
    """log N(z; μ, diag σ²) = −½ Σᵢ (log 2π + log σᵢ² + (zᵢ − μᵢ)² / σᵢ²), summed over the last dim."""
    return -0.5 * (LOG_2PI + logvar + (z - mu).pow(2) * torch.exp(-logvar)).sum(-1)


def log_standard_normal(z: torch.Tensor) -> torch.Tensor:
    """log p(z) = log N(z; 0, I) = −½ Σᵢ (log 2π + zᵢ²)."""
    return -0.5 * (LOG_2PI + z.pow(2)).sum(-1)


def gaussian_log_normalizer(data_dim: int, sigma_dec: float) -> float:
    """The constant of the Gaussian decoder: −(D/2)·log(2πσ_dec²). Independent of x and z."""
    return -0.5 * data_dim * math.log(2 * math.pi * sigma_dec**2)


def gaussian_squared_error_term(x: torch.Tensor, x_hat: torch.Tensor, sigma_dec: float) -> torch.Tensor:
    """The data-dependent part of log p_θ(x|z): −‖x − x̂‖² / (2σ_dec²)."""
    return -squared_distance(x, x_hat) / (2 * sigma_dec**2)


def squared_distance(x: torch.Tensor, x_hat: torch.Tensor) -> torch.Tensor:
    """‖x − x̂‖² = Σ_d (x_d − x̂_d)², the distortion of rate–distortion (rate = KL(q ‖ p(z)))."""
    return (x - x_hat).pow(2).sum(-1)


def gaussian_log_likelihood(x: torch.Tensor, x_hat: torch.Tensor, sigma_dec: float) -> torch.Tensor:
    """log p_θ(x|z) = −‖x − x̂‖² / (2σ_dec²) − (D/2)·log(2πσ_dec²), with x̂ = decode(z)."""
    return gaussian_squared_error_term(x, x_hat, sigma_dec) + gaussian_log_normalizer(x.shape[-1], sigma_dec)


def bernoulli_log_likelihood(x: torch.Tensor, logits: torch.Tensor) -> torch.Tensor:
    """log p_θ(x|z) = Σ_d x_d log p_d + (1 − x_d) log(1 − p_d), p = sigmoid(logits).

    For binary x this is a normalised log-probability; for grey-level x it is the negative BCE
    that many tutorials train with, which is not a normalised density.
    """
    return -F.binary_cross_entropy_with_logits(logits, x.expand_as(logits), reduction="none").sum(-1)


def kl_per_dimension(mu: torch.Tensor, logvar: torch.Tensor) -> torch.Tensor:
    """KL of each latent dimension to N(0, 1): ½ (σᵢ² + μᵢ² − 1 − log σᵢ²), shape [batch, latent_dim]."""
    return 0.5 * (torch.exp(logvar) + mu.pow(2) - 1.0 - logvar)


def kl_to_standard_normal(mu: torch.Tensor, logvar: torch.Tensor) -> torch.Tensor:
    """KL(N(μ, diag σ²) ‖ N(0, I)) = ½ Σᵢ (σᵢ² + μᵢ² − 1 − log σᵢ²)."""
    return kl_per_dimension(mu, logvar).sum(-1)


def kl_gaussians(mu0: torch.Tensor, logvar0: torch.Tensor, mu1: torch.Tensor, logvar1: torch.Tensor) -> torch.Tensor:
    """KL(N(μ₀, diag σ₀²) ‖ N(μ₁, diag σ₁²)) = ½ Σᵢ (σ₀ᵢ²/σ₁ᵢ² + (μ₁ᵢ − μ₀ᵢ)²/σ₁ᵢ² − 1 + log σ₁ᵢ² − log σ₀ᵢ²).

    The general diagonal form; with μ₁ = 0, σ₁ = 1 it reduces to `kl_to_standard_normal`.
    """
    var_ratio = torch.exp(logvar0 - logvar1)
    return 0.5 * (var_ratio + (mu1 - mu0).pow(2) * torch.exp(-logvar1) - 1.0 + logvar1 - logvar0).sum(-1)


def printed_kl(mu: torch.Tensor, logvar: torch.Tensor) -> torch.Tensor:
    """The tutorial's printed (wrong) KL to the prior, kept to show the erratum: ½((σ²)^d + μᵀμ − d log σ²) for an
    isotropic q = N(μ, σ²I); for a diagonal σ², (σ²)^d reads ∏ᵢ σᵢ² and d log σ² reads Σᵢ log σᵢ², so
    ½(∏ᵢ σᵢ² + μᵀμ − Σᵢ log σᵢ²). At q = p(z) it gives ½, not 0 (compare `kl_to_standard_normal`)."""
    return 0.5 * (torch.exp(logvar.sum(-1)) + mu.pow(2).sum(-1) - logvar.sum(-1))


def log_likelihood(x: torch.Tensor, logits: torch.Tensor, likelihood: str, sigma_dec: float) -> torch.Tensor:
    """log p_θ(x|z) for the model's likelihood: Gaussian on x̂ = sigmoid(logits), or Bernoulli on logits."""
    if likelihood == "gaussian":
        return gaussian_log_likelihood(x, torch.sigmoid(logits), sigma_dec)
    return bernoulli_log_likelihood(x, logits)


def gaussian_elbo_terms(model, x: torch.Tensor, mu: torch.Tensor, logvar: torch.Tensor, eps: torch.Tensor,
                        sigma_dec: float | None = None, chunk: int = 100) -> torch.Tensor:
    """Each node's term of the ELBO of a diagonal Gaussian q = N(μ, diag σ²), log p_θ(x | μ + σ ⊙ εₗ) − KL(q ‖ p(z)):
    [L, N] for nodes ε [L, d] shared by every image x [N, D], μ and log σ² [N, d] (`gaussian_elbo` weighs them);
    `chunk` nodes are decoded at a time. Differentiable in μ and log σ²."""
    sigma = model.config.sigma_dec if sigma_dec is None else sigma_dec
    x, std, kl = x.flatten(1), torch.exp(0.5 * logvar), kl_to_standard_normal(mu, logvar)
    return torch.cat([log_likelihood(x, model.decode_logits(mu + std * e[:, None, :]), model.config.likelihood, sigma)
                      - kl for e in eps.split(chunk)])


def gaussian_elbo(model, x: torch.Tensor, mu: torch.Tensor, logvar: torch.Tensor, eps: torch.Tensor,
                  weights: torch.Tensor | None = None, sigma_dec: float | None = None) -> torch.Tensor:
    """The ELBO of any diagonal Gaussian q = N(μ, diag σ²), not only the encoder's:

        ELBO(x; μ, σ) = E_q[log p_θ(x|z)] − KL(q ‖ p(z))
                      ≈ Σₗ wₗ log p_θ(x | μ + σ ⊙ εₗ) − ½ Σᵢ (σᵢ² + μᵢ² − 1 − log σᵢ²),

    with the nodes ε [L, d] shared by every image and weights w [L] summing to one (1/L when None: Monte Carlo; a
    quadrature rule's otherwise). x [N, D], μ and log σ² [N, d] → [N]. Differentiable in μ and log σ²; the terms
    are `gaussian_elbo_terms`."""
    terms = gaussian_elbo_terms(model, x, mu, logvar, eps, sigma_dec)
    return terms.mean(0) if weights is None else (weights[:, None] * terms).sum(0)


@dataclass
class ELBOParts:
    """The ELBO and its parts, each [batch], in nats.

    elbo = reconstruction − kl, reconstruction = squared_error + constant (Gaussian decoder);
    for a Bernoulli decoder constant = 0 and squared_error holds the whole reconstruction term.
    """

    elbo: torch.Tensor
    reconstruction: torch.Tensor
    squared_error: torch.Tensor
    constant: torch.Tensor
    kl: torch.Tensor
    kl_per_dim: torch.Tensor
    distortion: torch.Tensor | None = None  # E_q ‖x − x̂‖², the rate–distortion view's D (any likelihood)


def elbo(model, x: torch.Tensor, samples: int = 1, sigma_dec: float | None = None,
         generator: torch.Generator | None = None, eps: torch.Tensor | None = None,
         with_distortion: bool = False) -> ELBOParts:
    """ELBO(x) = E_q[log p_θ(x|z)] − KL(q_φ(z|x) ‖ p(z)), the expectation estimated with L = `samples` draws.

    The KL is analytic (`kl_to_standard_normal`). `sigma_dec` overrides the model's σ_dec; `eps`
    ([L, batch, latent_dim]) fixes the noise. `model` may be wrapped (DistributedDataParallel).
    `with_distortion` also returns E_q‖x − x̂‖² (kept off the training path).
    """
    config = getattr(model, "module", model).config
    sigma = config.sigma_dec if sigma_dec is None else sigma_dec
    x = x.flatten(1)
    logits, mu, logvar, _ = model(x, samples, generator, eps)
    if config.likelihood == "gaussian":
        squared_error = gaussian_squared_error_term(x, torch.sigmoid(logits), sigma).mean(0)
        constant = torch.full_like(squared_error, gaussian_log_normalizer(x.shape[-1], sigma))
    else:
        squared_error = bernoulli_log_likelihood(x, logits).mean(0)
        constant = torch.zeros_like(squared_error)
    reconstruction = squared_error + constant
    kl_dims = kl_per_dimension(mu, logvar)
    kl = kl_dims.sum(-1)
    distortion = None
    if with_distortion:
        with torch.no_grad():
            distortion = squared_distance(x, torch.sigmoid(logits)).mean(0)
    return ELBOParts(reconstruction - kl, reconstruction, squared_error, constant, kl, kl_dims, distortion)


@dataclass
class DefinitionEstimate:
    """One image's ELBO by its definition, from the same L draws z⁽ˡ⁾ = μ + σ ⊙ ε⁽ˡ⁾ (floats, nats)."""

    definition: float  # (1/L) Σₗ [log p(x, z⁽ˡ⁾) − log q(z⁽ˡ⁾|x)]
    reconstruction: float  # (1/L) Σₗ log p(x|z⁽ˡ⁾)
    kl_sampled: float  # (1/L) Σₗ [log q(z⁽ˡ⁾|x) − log p(z⁽ˡ⁾)]
    kl_closed_form: float  # ½ Σᵢ (σᵢ² + μᵢ² − 1 − log σᵢ²)
    definition_se: float = math.nan  # the definition's standard error s/√L (s over the L terms; nan for L = 1)
    samples: int = 0  # L

    @property
    def decomposed(self) -> float:
        """(1/L) Σₗ log p(x|z⁽ˡ⁾) − KL with the closed-form KL: the estimator training uses."""
        return self.reconstruction - self.kl_closed_form


@torch.no_grad()
def elbo_by_definition(model, x: torch.Tensor, eps: torch.Tensor) -> DefinitionEstimate:
    """ELBO(x) = E_q[log p(x, z) − log q(z|x)] = E_q[log p(x|z)] − KL(q(z|x) ‖ p(z)), estimated with the draws
    z⁽ˡ⁾ = μ + σ ⊙ ε⁽ˡ⁾ (`eps` [L, d]) for one image x ([D] or [1, D]). The definition's average equals
    reconstruction − kl_sampled exactly for the same draws; with the closed-form KL it is the training estimator,
    equal in expectation."""
    x = x.reshape(1, -1).to(model.device)
    mu, logvar = model.encode(x)
    z = reparameterize(mu, logvar, eps=eps.to(mu)[:, None, :])  # [L, 1, d]
    config = model.config
    log_px_z = log_likelihood(x, model.decode_logits(z), config.likelihood, config.sigma_dec)[:, 0].double()
    log_pz = log_standard_normal(z)[:, 0].double()
    log_q = log_normal_diag(z, mu, logvar)[:, 0].double()
    terms = log_px_z + log_pz - log_q
    se = float(terms.std() / math.sqrt(len(terms))) if len(terms) > 1 else math.nan
    return DefinitionEstimate(float(terms.mean()), float(log_px_z.mean()), float((log_q - log_pz).mean()),
                              float(kl_to_standard_normal(mu, logvar)[0]), se, len(terms))


@torch.no_grad()
def sampled_kl_error(mu: torch.Tensor, logvar: torch.Tensor, samples: int, repeats: int = 400,
                     generator: torch.Generator | None = None) -> float:
    """The root-mean-square error of the sampled KL, (1/L) Σₗ [log q(z⁽ˡ⁾|x) − log p(z⁽ˡ⁾)] with L = `samples`
    draws z⁽ˡ⁾ ~ q = N(μ, diag σ²), about the closed form ½ Σᵢ (σᵢ² + μᵢ² − 1 − log σᵢ²), measured over `repeats`
    fresh sets of draws, for one q (μ, log σ² of shape [d]). Its expectation is `sampled_kl_spread`."""
    mu, logvar = mu.reshape(1, 1, -1).double(), logvar.reshape(1, 1, -1).double()
    eps = torch.randn(repeats, samples, mu.shape[-1], generator=generator, dtype=torch.float64)
    z = reparameterize(mu, logvar, eps=eps)
    sampled = (log_normal_diag(z, mu, logvar) - log_standard_normal(z)).mean(1)
    return float((sampled - kl_to_standard_normal(mu, logvar)[0, 0]).pow(2).mean().sqrt())


def sampled_kl_spread(mu: torch.Tensor, logvar: torch.Tensor, samples: int) -> torch.Tensor:
    """The standard deviation of the sampled KL (1/L) Σₗ [log q(z⁽ˡ⁾|x) − log p(z⁽ˡ⁾)] over fresh draws, exactly:
    with z = μ + σ ⊙ ε, log q(z) − log p(z) = const + Σᵢ [½(σᵢ² − 1) εᵢ² + μᵢσᵢ εᵢ], so

        sd = √( Σᵢ [½(σᵢ² − 1)² + μᵢ²σᵢ²] / L ),

    its root-mean-square distance from the closed-form KL (the estimate is unbiased). Falls as 1/√L, and is 0 only
    where q = p(z). Shape [batch]."""
    variance = (0.5 * (torch.exp(logvar) - 1).pow(2) + mu.pow(2) * torch.exp(logvar)).sum(-1)
    return (variance / samples).sqrt()


@dataclass
class EvidenceEstimate:
    """log p(x) and the ELBO of one image from the same importance weights (floats, nats), each with its standard
    error over `repeats` independent sets of K = `samples` draws."""

    log_px: float  # the mean of the repeats' IWAE estimates log (1/K) Σₖ wₖ
    log_px_se: float
    elbo: float  # the mean of all the log wₖ: the ELBO by its definition
    elbo_se: float
    samples: int
    repeats: int

    @property
    def gap(self) -> float:
        """log p(x) − ELBO, estimated: ≥ 0 for every set of draws (the log of a mean ≥ the mean of the logs)."""
        return self.log_px - self.elbo


@torch.no_grad()
def evidence_by_importance(model, x: torch.Tensor, samples: int = 1000, repeats: int = 10, seed: int = 0,
                           sigma_dec: float | None = None) -> EvidenceEstimate:
    """log p(x) ≈ log (1/K) Σₖ wₖ (IWAE) and ELBO ≈ (1/K) Σₖ log wₖ, wₖ = p_θ(x|zₖ) p(zₖ) / q_φ(zₖ|x), zₖ ~ q_φ(z|x),
    from the same K = `samples` draws, `repeats` times, for one image x ([D] or [1, D]). By Jensen each repeat's
    IWAE is at least its ELBO, so the gap shown is never negative; IWAE's expectation is a lower bound on log p(x),
    so the gap estimates log p(x) − ELBO = KL(q ‖ p(z|x)) from below, in expectation."""
    sigma = model.config.sigma_dec if sigma_dec is None else sigma_dec
    x = x.reshape(1, -1).to(model.device)
    mu, logvar = model.encode(x)
    generator = torch.Generator().manual_seed(seed)
    eps = torch.randn(repeats * samples, 1, mu.shape[-1], generator=generator).to(mu)
    z = reparameterize(mu, logvar, eps=eps)  # [R·K, 1, d]
    log_w = log_weights(model, x, z, mu, logvar, sigma)[:, 0].double().reshape(repeats, samples)
    iwae = torch.logsumexp(log_w, 1) - math.log(samples)
    se = lambda values: float(values.std() / math.sqrt(values.numel())) if values.numel() > 1 else math.nan  # noqa: E731
    return EvidenceEstimate(float(iwae.mean()), se(iwae), float(log_w.mean()), se(log_w.flatten()), samples, repeats)


@torch.no_grad()
def prior_as_q_elbo(model, x: torch.Tensor, samples: int = 1000, seed: int = 0) -> tuple[float, float]:
    """The ELBO were q(z|x) the prior itself: E_{p(z)}[log p_θ(x|z)] − KL(p ‖ p) = E_{p(z)}[log p_θ(x|z)], by
    `samples` draws z ~ N(0, I); (the estimate, its standard error). No KL is paid, and the codes say nothing
    about x."""
    config = model.config
    x = x.reshape(1, -1).to(model.device)
    z = torch.randn(samples, 1, config.latent_dim, generator=torch.Generator().manual_seed(seed)).to(model.device)
    scores = log_likelihood(x, model.decode_logits(z), config.likelihood, config.sigma_dec)[:, 0].double()
    return float(scores.mean()), float(scores.std() / math.sqrt(samples))


def log_weights(model, x: torch.Tensor, z: torch.Tensor, mu: torch.Tensor, logvar: torch.Tensor,
                sigma_dec: float) -> torch.Tensor:
    """The importance weights' logs, log w = log p_θ(x|z) + log p(z) − log q_φ(z|x), for codes z ([K, batch, d])
    drawn from q = N(μ, diag σ²) of the images x ([batch, D]): [K, batch]. Their mean is the ELBO by its
    definition, the log of their mean IWAE's estimate of log p(x)."""
    return (log_likelihood(x, model.decode_logits(z), model.config.likelihood, sigma_dec) + log_standard_normal(z)
            - log_normal_diag(z, mu, logvar))


def iwae_log_px(model, x: torch.Tensor, samples: int = 100, sigma_dec: float | None = None,
                generator: torch.Generator | None = None, chunk_size: int = 256, rows: int = 2048,
                proposal: tuple[torch.Tensor, torch.Tensor] | None = None) -> torch.Tensor:
    """Importance-sampled log p(x) ≈ log (1/K) Σ_k p_θ(x|z_k) p(z_k) / q(z_k|x), z_k ~ q(z|x).

    q is the encoder's q_φ(z|x), or the diagonal Gaussians `proposal` = (μ, log σ²) [batch, d] (a refined q).

    K = `samples` (Burda et al., 2016). A lower bound on log p(x) whose gap shrinks as K grows; K = 1
    is a one-sample ELBO. log p(x) is the evidence, the marginal likelihood of the data, not the prior.
    Samples are drawn in chunks of `chunk_size` so memory stays bounded for large K; a chunk is decoded about
    `rows` codes at a time (its samples of a few images), which keeps the tensors in the CPU's caches (twice as
    fast as decoding the chunk whole) and changes neither the draws nor the result.
    """
    sigma = model.config.sigma_dec if sigma_dec is None else sigma_dec
    x = x.flatten(1)
    mu, logvar = model.encode(x) if proposal is None else proposal
    chunks = []
    for start in range(0, samples, chunk_size):
        k = min(chunk_size, samples - start)
        z = reparameterize(mu, logvar, k, generator)  # [k, batch, latent_dim]
        step, parts = max(1, rows // k), []
        for b in range(0, x.shape[0], step):
            images = slice(b, b + step)
            zb = z[:, images]
            parts.append(log_weights(model, x[images], zb, mu[images], logvar[images], sigma))
        chunks.append(torch.cat(parts, 1))
    return torch.logsumexp(torch.cat(chunks, 0), dim=0) - math.log(samples)


def optimal_sigma_dec(x: torch.Tensor, x_hat: torch.Tensor) -> float:
    """σ* = √(E‖x − x̂‖² / D): the σ_dec that maximises the mean Gaussian log-likelihood for a fixed decoder.

    From d/dσ [−S/(2σ²) − D log σ] = S/σ³ − D/σ = 0 with S = E‖x − x̂‖²: σ*² is the per-pixel MSE.
    The mean runs over every leading dimension of x̂ (samples, batch).
    """
    return math.sqrt((x - x_hat).pow(2).sum(-1).mean().item() / x.shape[-1])


def beta_equivalent(sigma_dec: float) -> float:
    """β = 2σ_dec²: a Gaussian decoder with σ_dec optimises the same objective as a β-VAE on squared error.

    −ELBO = ‖x − x̂‖²/(2σ²) + KL + const = (1/(2σ²))·(‖x − x̂‖² + 2σ²·KL) + const.
    """
    return 2 * sigma_dec**2
