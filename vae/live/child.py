"""In the training process: one run's model and data, and what each command does to them.

The training split stays uint8 (forked from the zygote, its pages are shared with every other
training process of the server); each batch becomes floats as it is drawn (vae.train.Trainer).
"""
from __future__ import annotations

import time

import numpy as np
import torch

from . import cores
from .protocol import RECORD_SECONDS
from .. import timeline as tl
from ..config import VAEConfig
from ..data import Dataset
from ..train import DivergenceError, Trainer, TrainMetrics, probe

CHUNK_SECONDS = 0.1  # training between two looks at the pipe
PROBE = 1000  # test digits encoded for the live scatter
RECON = 8  # of which this many are shown with their reconstructions
STEP_SHOWN = 16  # a slow-motion step shows this many of its minibatch's images
THREADS_EVERY = 2.0  # seconds between two looks at how many training processes share the machine


class ChildSession:
    """The run inside the training process; each public method is a command (see protocol.COMMANDS)."""

    def __init__(self, config_dict: dict, train: Dataset, test: Dataset, device: str, limit: int | None = None):
        self.config = VAEConfig.from_dict(config_dict)
        self.limit = limit
        self.train_source, self.train_examples = train.source, len(train)
        self.test = test
        self.probe_images = test.subset(PROBE).to_float()
        self.trainer = Trainer(self.config, train.images.flatten(1), device)  # uint8: floats per batch
        self.playing, self.message = False, None
        self.history: list[dict] = []
        self.settings = [self._settings()]  # (step, lr, β, σ_dec) at the start and after every change
        self.kl_per_dim: list[float] = []
        self.pending: list = []
        self.rate = 0.0
        self.threads_checked = 0.0
        self.timeline = tl.Timeline(self.test.labels[:PROBE].numpy().astype(np.uint8))
        self.take_snapshot()  # step 0: the untrained model's picture

    def _settings(self) -> dict:
        c = self.trainer.config
        return {"step": self.trainer.step, "lr": c.lr, "beta": c.beta, "sigma_dec": c.sigma_dec}

    # -- training --------------------------------------------------------------------------------
    def share_cores(self) -> None:
        """Every few seconds: as many torch threads as this process's share of the cores."""
        now = time.monotonic()
        if now - self.threads_checked < THREADS_EVERY:
            return
        self.threads_checked = now
        threads = cores.fair_threads(cores.siblings(), cores.available_cores())
        if threads != torch.get_num_threads():
            torch.set_num_threads(threads)

    def take_snapshot(self) -> None:
        """The model's picture at this step, kept in the run's timeline."""
        self.timeline.add(self.picture())

    def picture(self) -> tl.Snapshot:
        """The probe digits' latent means and the decoder's map now (vae.timeline.take)."""
        return tl.take(self.trainer.model, self.probe_images, self.trainer.step, self.trainer.epoch, self.kl_per_dim,
                       self.history[-1] if self.history else None)

    def run_to_snapshot(self, steps: int) -> TrainMetrics:
        """At most `steps` steps, stopping at the timeline's next due step to take its snapshot there."""
        metrics = self.trainer.run(max(1, min(steps, self.timeline.due - self.trainer.step)))
        self.pending.append(metrics)
        if self.trainer.step >= self.timeline.due:
            self.flush()  # the snapshot's ELBO and KL are the latest training means
            self.take_snapshot()
        return metrics

    def run_steps(self, steps: int) -> None:
        """Exactly `steps` steps, stopping at each due step for its snapshot, as one slice: if they diverge, the run
        is back where it began (weights, optimiser, data order, its history and timeline), as Trainer.run undoes a
        slice (weights kept a few steps into a divergence stay poisoned), and DivergenceError says so."""
        trainer, start = self.trainer, self.trainer.step
        saved = trainer._checkpoint_state()
        line = (list(self.timeline.snapshots), self.timeline.due)
        history = len(self.history)
        try:
            while trainer.step < start + steps:
                self.run_to_snapshot(start + steps - trainer.step)
        except DivergenceError as exc:
            trainer._restore_state(saved)
            self.timeline.snapshots, self.timeline.due = line
            del self.history[history:]
            self.pending = []
            raise DivergenceError(start, exc.failed_step, exc.lr) from None

    def train_chunk(self, seconds: float = CHUNK_SECONDS) -> None:
        self.share_cores()
        steps = max(1, int(self.rate * seconds)) if self.rate > 0 else 2
        try:
            metrics = self.run_to_snapshot(steps)
        except DivergenceError as exc:  # the trainer is back at its last good step: pause and say so
            self.flush()
            self.playing = False
            self.message = f"Paused: {exc}"
            return
        self.rate = metrics.steps_per_s
        if sum(m.seconds for m in self.pending) >= RECORD_SECONDS:
            self.flush()

    def flush(self) -> None:
        if not self.pending:
            return
        m = TrainMetrics.combine(self.pending)
        self.pending = []
        self.history.append({"step": m.step, "epoch": m.epoch, "elbo": m.elbo, "reconstruction": m.reconstruction,
                             "kl": m.kl, "loss": m.loss, "steps_per_s": m.steps_per_s,
                             "active_dims": m.active_dims()})
        self.kl_per_dim = m.kl_per_dim

    # -- commands --------------------------------------------------------------------------------
    def hello(self):
        return {"train_examples": self.train_examples, "train_source": self.train_source,
                "test_source": self.test.source}

    def play(self):
        self.playing, self.message = True, None

    def pause(self):
        self.playing = False
        self.flush()

    def step(self, seconds: float, steps: int | None = None):
        self.message = None
        if steps is not None:  # exactly `steps` (a run recomputed from its recipe): snapshots at their due steps
            self.run_steps(steps)
        else:
            end = time.perf_counter() + seconds
            while time.perf_counter() < end and self.message is None:
                self.train_chunk()
        self.flush()
        return self.trainer.step

    def update(self, changes: dict):
        self.trainer.update(**changes)
        now = self._settings()
        if self.settings[-1]["step"] == now["step"]:
            self.settings[-1] = now  # changed again before any step: only the last value was trained with
        elif {k: v for k, v in now.items() if k != "step"} != {k: v for k, v in self.settings[-1].items() if k != "step"}:
            self.settings.append(now)

    def step_once(self):
        """Slow motion: one optimiser step, and what it changed on its own minibatch — the batch's mean
        reconstruction term, KL and ELBO before and after it (vae.train.probe, the same ε both times) and the first
        STEP_SHOWN images with their reconstructions decode(μ) before and after."""
        from ..latent import decode, encode_dataset

        self.message = None
        model = self.trainer.model
        x = self.trainer.upcoming_batch()
        shown = x[:STEP_SHOWN]
        seed = self.trainer.step

        def look():
            return probe(model, x, seed=seed), decode(model, encode_dataset(model, shown)[0]).numpy()

        (before, recon_before), step = look(), self.trainer.step
        self.run_to_snapshot(1)
        self.flush()
        after, recon_after = look()
        shape = self.config.image_shape
        return {"step": step, "batch_size": int(x.shape[0]), "before": before, "after": after,
                "images": shown.numpy().reshape(-1, *shape), "recon_before": recon_before,
                "recon_after": recon_after, "lr": self.trainer.optimizer.param_groups[0]["lr"],
                "beta": self.trainer.config.beta}

    def mark(self):
        """A snapshot of this step, out of turn (a link shows this step): the due steps stay as they were."""
        if self.timeline.steps[-1] != self.trainer.step:
            self.timeline.add(self.picture(), due=False)
        return self.trainer.step

    def decoder_now(self):
        """The decoder's layers now, [(weight [out, in], bias [out])] float32, and the probe digits' latent means
        [N, d]: what the browser's latent pad decodes with (ui/latent_pad)."""
        from ..latent import encode_dataset

        layers = [(m.weight.detach().numpy().copy(), m.bias.detach().numpy().copy())
                  for m in self.trainer.model.decoder if isinstance(m, torch.nn.Linear)]
        means = encode_dataset(self.trainer.model, self.probe_images)[0].numpy()
        return {"step": self.trainer.step, "layers": layers, "means": means, "labels": self.timeline.labels,
                "dims": tl.plane_dims(means.shape[1], self.kl_per_dim)}

    def timeline_since(self, since: int = -1):
        """The run's timeline (vae.timeline.Timeline) with only its snapshots after step `since`."""
        return tl.Timeline(self.timeline.labels, [s for s in self.timeline.snapshots if s.step > since],
                           self.timeline.due)

    def snapshot(self, probe: bool):
        reply = {"step": self.trainer.step, "epoch": self.trainer.epoch, "playing": self.playing,
                 "message": self.message, "history": list(self.history), "kl_per_dim": list(self.kl_per_dim),
                 "config": self.trainer.config.to_dict(), "threads": torch.get_num_threads(),
                 "settings": list(self.settings)}
        if probe:  # the live picture (vae.timeline.Snapshot), and the first RECON probe digits reconstructed
            from ..latent import decode, encode_dataset

            model = self.trainer.model
            picture = self.picture()
            originals = self.probe_images[:RECON]
            reply.update(picture=picture, coords=picture.coords.astype(np.float32),
                         names=[f"z{d + 1}" for d in picture.dims], labels=self.timeline.labels,
                         originals=originals.numpy().reshape(-1, *self.config.image_shape),
                         recon=decode(model, encode_dataset(model, originals)[0]).numpy())
        return reply

    def stop(self):
        """Answered, then the loop ends."""

    def save(self, path: str, meta: dict, latents: bool = True):
        """The model as a checkpoint at `path`, with the test set's latents unless `latents` is False (the app's Save:
        its scoring job adds them, off this process's share of a busy machine)."""
        from .. import checkpoint
        from ..latent import test_latent_extras
        from ..recipe import live_command

        self.flush()
        extras = test_latent_extras(self.trainer.model, self.test.to_float(), self.test.labels, tsne=False) \
            if latents else {}
        extras.update(self.timeline.to_extras())
        meta = {"command": live_command(self.trainer.config, self.settings, self.trainer.step, self.limit),
                "steps": self.trainer.step, "data_source": self.train_source, "settings": self.settings, **meta}
        checkpoint.save(path, self.trainer.model, {"train": self.history[-1] if self.history else {}}, meta, extras)
        return path
