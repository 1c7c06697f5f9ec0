"""A saved model scored on the test split by the server (a scoring worker's job, classroom.scoring): the figures the
sidebar's card shows (test ELBO, IWAE log p(x), bits/dim), stored in the checkpoint as `python -m vae evaluate --save`
stores them, and those a class board shows."""
from __future__ import annotations

import os

from ui import store

IW_SAMPLES = 100  # K of the IWAE figure, as for the shipped models
K_VARIABLE = "VAE_SCORE_IW_SAMPLES"  # a server may score with another K (the browser tests' server: 5)


def iw_samples() -> int:
    """K for scoring a saved model: $VAE_SCORE_IW_SAMPLES where it is a whole number ≥ 1, else IW_SAMPLES. Scoring
    is 10,000 × K decodes (8 s at K = 100 on one core here), queued apart from Save (classroom.scoring)."""
    value = os.environ.get(K_VARIABLE, "").strip()
    return int(value) if value.isdigit() and int(value) >= 1 else IW_SAMPLES


def score(data: bytes, on_progress=None) -> tuple[bytes, dict, bytes]:
    """The one measurement of a saved model, on its data set's test split (a scoring worker's, no Streamlit call):
    (checkpoint bytes with metrics["test"] filled in and the test set's latents where Save left them out, weights,
    meta and extras kept; the figures a class board shows;
    the board's picture as PNG: test images, their reconstructions, prior samples). ELBO, rate, distortion, active
    units and IWAE log p(x) with K = iw_samples() are all over the whole test split."""
    from vae import checkpoint
    from vae.evaluate import evaluate, scorecard_picture
    from vae.latent import test_latent_extras

    ckpt = checkpoint.from_bytes(data)
    dataset, images = store.dataset(ckpt.config.dataset, "test")
    test = evaluate(ckpt.model, images, iw_samples=iw_samples(), on_progress=on_progress)
    extras = dict(ckpt.extras)
    if "test_mu" not in extras and len(images) == len(dataset.labels):  # Save left them to this job
        extras.update(test_latent_extras(ckpt.model, images, dataset.labels, tsne=False))
    config = ckpt.config
    steps = ckpt.meta.get("steps", ckpt.metrics.get("train", {}).get("steps"))
    figures = {"latent_dim": config.latent_dim, "likelihood": config.likelihood,
               "sigma_dec": config.sigma_dec if config.likelihood == "gaussian" else None, "beta": config.beta,
               "steps": int(steps) if isinstance(steps, (int, float)) else None,
               "elbo": test["elbo"], "rate": test["kl"], "distortion": test["distortion"],
               "active_units": test["active_dims"], "log_px_iwae": test["log_px_iwae"], "iwae_images": test["n"],
               "iw_samples": test["iw_samples"], "test_images": test["n"]}
    png = images_png(scorecard_picture(ckpt.model, images))
    return checkpoint.to_bytes(ckpt.model, dict(ckpt.metrics, test=test), ckpt.meta, extras), figures, png


def images_png(picture) -> bytes:
    """A scorecard picture [3, shown, H, W] as one PNG, a row each."""
    from ui import images, plots

    return images.png_bytes(images.to_uint8(plots.tile(picture.numpy(), pad=1)))


def card(test: dict, config) -> str:
    """One line of a model's test figures, as the sidebar shows them."""
    from vae.units import LABELS, bits_per_dim

    figure = bits_per_dim(test["log_px_iwae"], config)
    return (f"Test ELBO {test['elbo']:.1f} · IWAE log p(x) ≥ {test['log_px_iwae']:.1f} nats (K={test['iw_samples']:,})"
            + (f" · {figure[1]:.3f} {LABELS[figure[0]]}, lower is better" if figure else ""))
