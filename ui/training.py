"""Live training for one browser session: a Trainer in st.session_state, advanced in time-boxed slices.

No thread: each slice runs inside that session's own script run (an `st.fragment(run_every=…)`),
so training stops the moment the session stops asking, and two tabs are two independent runs.
The training tensor is the server's shared, read-only copy of the split; the trainer only reads it.
"""
from __future__ import annotations

import math
import time
from dataclasses import dataclass, field

import numpy as np

from ui import store

SLICE_SECONDS = 0.6  # training time per fragment run; the rest of each run draws the charts
PROBE = 1000  # test digits encoded for the live scatter
RECON = 8  # test digits shown with their reconstructions


@dataclass
class LiveRun:
    trainer: object  # vae.train.Trainer
    probe_images: object  # torch tensor [PROBE, D]
    probe_labels: np.ndarray
    history: list[dict] = field(default_factory=list)
    kl_per_dim: list[float] = field(default_factory=list)
    playing: bool = False
    stopped: bool = False
    saved_as: str | None = None
    message: str | None = None
    wall_seconds: float = 0.0  # time spent inside training slices

    @property
    def step(self) -> int:
        return self.trainer.step


def new_run(config, limit: int | None = None) -> LiveRun:
    """A fresh model and trainer on the (shared) training split, optionally its first `limit` examples."""
    from vae.train import Trainer

    _, train = store.dataset(config.dataset, "train")
    data = train if limit is None else train[:limit]
    test, test_images = store.dataset(config.dataset, "test")
    trainer = Trainer(config, data, "cpu")
    return LiveRun(trainer, test_images[:PROBE], test.labels[:PROBE].numpy())


def advance(run: LiveRun, seconds: float = SLICE_SECONDS) -> None:
    """Train for about `seconds` in one call (steps sized from the last measured rate); record the metrics."""
    last_rate = run.history[-1]["steps_per_s"] if run.history else 0.0
    steps = max(1, int(last_rate * seconds)) if last_rate > 0 else 5
    start = time.perf_counter()
    metrics = run.trainer.run(steps)
    run.wall_seconds += time.perf_counter() - start
    record(run, metrics)
    if not math.isfinite(metrics.loss):
        run.playing = False
        run.message = (f"Training diverged at step {run.step} (the loss is not finite). Lower the learning rate "
                       "and start a new model.")


def record(run: LiveRun, metrics) -> None:
    run.history.append({"step": metrics.step, "epoch": metrics.epoch, "elbo": metrics.elbo,
                        "reconstruction": metrics.reconstruction, "kl": metrics.kl, "loss": metrics.loss,
                        "steps_per_s": metrics.steps_per_s, "active_dims": metrics.active_dims()})
    run.kl_per_dim = metrics.kl_per_dim


def probe_view(run: LiveRun):
    """(2-D coordinates of the probe digits' means on the two most active dimensions, their names,
    originals and reconstructions of the first RECON digits)."""
    from vae.latent import decode, encode_dataset

    model = run.trainer.model
    mu, _ = encode_dataset(model, run.probe_images)  # eval mode here; Trainer.run switches back
    mu = mu.numpy()
    if mu.shape[1] == 1:
        dims = [0, 0]
    else:
        dims = list(np.argsort(run.kl_per_dim)[::-1][:2]) if run.kl_per_dim else [0, 1]
    recon = decode(model, mu[:RECON]).numpy()
    originals = run.probe_images[:RECON].numpy().reshape(recon.shape)
    return mu[:, dims], [f"z{d + 1}" for d in dims], originals, recon


def save(run: LiveRun, name: str):
    """Write the run's model to the user's folder (with its test-set latents); returns the path."""
    from vae import checkpoint
    from vae.cli import reproduce_command
    from vae.latent import test_latent_extras

    path = store.user_model_path(name)
    trainer = run.trainer
    test, test_images = store.dataset(trainer.config.dataset, "test")
    extras = test_latent_extras(trainer.model, test_images, test.labels, tsne=False)
    metrics = {"train": run.history[-1] if run.history else {}}
    meta = {"command": reproduce_command(trainer.config) + f"  # trained live in the app for {trainer.step} steps",
            "trained_in": "app", "steps": trainer.step}
    checkpoint.save(path, trainer.model, metrics, meta, extras)
    run.saved_as = path.stem
    return path
