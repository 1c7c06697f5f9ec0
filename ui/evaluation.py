"""A saved model scored on the test split by the server, with a progress bar: the figures the sidebar's card shows
(test ELBO, IWAE log p(x), bits/dim), stored in the checkpoint as `python -m vae evaluate --save` stores them."""
from __future__ import annotations

import os

import streamlit as st

from ui import store

IW_SAMPLES = 100  # K of the IWAE figure, as for the shipped models
K_VARIABLE = "VAE_SCORE_IW_SAMPLES"  # a server may score with another K (the browser tests' server: 5)


def iw_samples() -> int:
    """K for scoring a saved model: $VAE_SCORE_IW_SAMPLES where it is a whole number ≥ 1, else IW_SAMPLES. Scoring
    is 10,000 × K decodes (8 s at K = 100 on one core here), which a user waits for on Save."""
    value = os.environ.get(K_VARIABLE, "").strip()
    return int(value) if value.isdigit() and int(value) >= 1 else IW_SAMPLES


def evaluate_bytes(data: bytes, label: str = "the model") -> tuple[bytes, dict]:
    """(checkpoint bytes with metrics["test"] filled in, those figures) for checkpoint `data`, scored on its data
    set's test split with a progress bar. Weights, meta and extras are kept as they were."""
    from vae import checkpoint
    from vae.evaluate import evaluate

    ckpt = checkpoint.from_bytes(data)
    _, images = store.dataset(ckpt.config.dataset, "test")
    k = iw_samples()
    bar = st.progress(0.0, text=f"Scoring {label} on the {len(images):,} test images (ELBO, IWAE with K = {k})…")

    def step(done: int, total: int) -> None:
        bar.progress(done / total, text=f"Scoring {label} on the test split: {done:,} of {total:,} images…")

    test = evaluate(ckpt.model, images, iw_samples=k, on_progress=step)
    bar.empty()
    metrics = dict(ckpt.metrics, test=test)
    return checkpoint.to_bytes(ckpt.model, metrics, ckpt.meta, ckpt.extras), test


def card(test: dict, config) -> str:
    """One line of a model's test figures, as the sidebar shows them."""
    from vae.units import LABELS, bits_per_dim

    figure = bits_per_dim(test["log_px_iwae"], config)
    return (f"Test ELBO {test['elbo']:.1f} · IWAE log p(x) ≥ {test['log_px_iwae']:.1f} nats (K={test['iw_samples']:,})"
            + (f" · {figure[1]:.3f} {LABELS[figure[0]]}, lower is better" if figure else ""))
