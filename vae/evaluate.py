"""Held-out figures of a trained model: the ELBO's parts and the importance-sampled log p(x)."""
from __future__ import annotations

import torch

from .collapse import active_units
from .objective import elbo, iwae_log_px
from .units import bits_per_dim


def binarize_fixed(data: torch.Tensor, seed: int = 0) -> torch.Tensor:
    """x_bin ~ Bernoulli(x), drawn once with a fixed seed: one reproducible binarisation of a test split."""
    generator = torch.Generator(data.device).manual_seed(seed)
    return torch.bernoulli(data, generator=generator)


@torch.no_grad()
def evaluate(model, data: torch.Tensor, iw_samples: int = 100, seed: int = 0, sigma_dec: float | None = None,
             batch_size: int | None = None, on_progress=None) -> dict:
    """Means per example over `data` ([N, D] floats in [0, 1]): ELBO, its parts, IWAE log p(x), and bits/dim
    from it where the likelihood is normalised (`bits_per_dim`).

    Models trained with dynamic binarisation are scored on a fixed binarisation of `data` (seed
    `seed`). `on_progress(done, total)` is called after each batch.
    """
    model.eval()
    config = model.config
    if iw_samples < 1:
        raise ValueError(f"iw_samples must be at least 1, got {iw_samples}")
    if data.shape[0] < 1:
        raise ValueError("evaluation needs at least one example")
    if config.binarize:
        data = binarize_fixed(data, seed)
    d = config.data_dim
    batch_size = batch_size or max(1, min(500, 2**26 // (min(iw_samples, 256) * d)))
    generator = torch.Generator(data.device).manual_seed(seed)
    totals = dict.fromkeys(("elbo", "reconstruction", "squared_error", "constant", "kl", "distortion", "log_px_iwae"),
                           0.0)
    kl_dims = torch.zeros(config.latent_dim, device=data.device)
    n = data.shape[0]
    for start in range(0, n, batch_size):
        x = data[start: start + batch_size]
        parts = elbo(model, x, samples=1, sigma_dec=sigma_dec, generator=generator, with_distortion=True)
        for key in ("elbo", "reconstruction", "squared_error", "constant", "kl", "distortion"):
            totals[key] += getattr(parts, key).sum().item()
        kl_dims += parts.kl_per_dim.sum(0)
        totals["log_px_iwae"] += iwae_log_px(model, x, iw_samples, sigma_dec, generator).sum().item()
        if on_progress is not None:
            on_progress(min(start + batch_size, n), n)
    result = {key: value / n for key, value in totals.items()}
    figure = bits_per_dim(result["log_px_iwae"], config)
    if figure is not None:
        result[figure[0]] = figure[1]
    result["gap"] = result["log_px_iwae"] - result["elbo"]
    result["kl_per_dim"] = (kl_dims / n).tolist()
    result["active_dims"] = active_units(result["kl_per_dim"])
    result.update(n=n, iw_samples=iw_samples, likelihood=config.likelihood,
                  sigma_dec=config.sigma_dec if sigma_dec is None else sigma_dec, binarized=config.binarize)
    return result


SCORECARD_IWAE_IMAGES = 1000  # the fixed subset (the first test images) of a scorecard's IWAE figure


@torch.no_grad()
def scorecard(model, data: torch.Tensor, iwae_images: int = SCORECARD_IWAE_IMAGES, iw_samples: int = 100,
              shown: int = 8, on_progress=None) -> tuple[dict, torch.Tensor]:
    """What a class board shows of a model, measured here on the test split `data` ([N, D] in [0, 1]):

    ELBO, rate R = E_x KL(q(z|x) ‖ p(z)), distortion E‖x − x̂‖² and active units over all of `data` (one z sample
    each, fixed seed); IWAE log p(x) with K = `iw_samples` on the first `iwae_images` images; with the model's
    β, σ_dec, latent size and likelihood. And a picture [3, shown, *image_shape]: the first `shown` test images,
    their reconstructions decode(μ), and decode(z) of `shown` prior samples z ~ N(0, I) (seed 0).
    `on_progress(done, total)` counts the batches of both passes.
    """
    config = model.config
    n = data.shape[0]
    subset = data[:min(iwae_images, n)]
    total = n + subset.shape[0]

    def first(done, _):
        if on_progress is not None:
            on_progress(done, total)

    def second(done, _):
        if on_progress is not None:
            on_progress(n + done, total)

    whole = evaluate(model, data, iw_samples=1, on_progress=first)
    tight = evaluate(model, subset, iw_samples=iw_samples, on_progress=second)
    figures = {"latent_dim": config.latent_dim, "likelihood": config.likelihood,
               "sigma_dec": config.sigma_dec if config.likelihood == "gaussian" else None, "beta": config.beta,
               "elbo": whole["elbo"], "rate": whole["kl"], "distortion": whole["distortion"],
               "active_units": whole["active_dims"], "log_px_iwae": tight["log_px_iwae"],
               "iwae_images": subset.shape[0], "iw_samples": iw_samples, "test_images": n}
    return figures, scorecard_picture(model, data, shown)


@torch.no_grad()
def scorecard_picture(model, data: torch.Tensor, shown: int = 8) -> torch.Tensor:
    """[3, shown, *image_shape]: the first `shown` images of `data`, their reconstructions decode(μ), and decode(z) of
    `shown` prior samples z ~ N(0, I) (seed 0)."""
    config = model.config
    x = data[:shown].to(model.device)
    reconstructions = model.decode(model.encode(x if not config.binarize else binarize_fixed(x))[0])
    z = torch.randn(shown, config.latent_dim, generator=torch.Generator().manual_seed(0)).to(model.device)
    return torch.stack([x, reconstructions, model.decode(z)]).cpu().reshape(3, shown, *config.image_shape)
