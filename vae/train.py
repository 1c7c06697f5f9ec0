"""A step-based trainer: run k steps, stop, change lr / β / σ_dec, run k more — no reset.

The command line and the app's live training drive this same object. Training minimises the
β-weighted negative ELBO per example, −E_q[log p_θ(x|z)] + β·KL(q_φ(z|x) ‖ p(z)).
Deterministic under `config.seed`: the shuffling, the binarisation and ε all come from one
generator, drawn for the whole global batch, so `run(10)` equals `run(5); run(5)` and a
DistributedDataParallel run over W ranks takes the same steps as one process.
"""
from __future__ import annotations

import math
import time
from dataclasses import asdict, dataclass, field

import torch

from .config import ConfigError, VAEConfig
from .distributed import World
from .model import VAE, resolve_device
from .collapse import ACTIVE_THRESHOLD, active_units
from .objective import elbo


@dataclass
class TrainMetrics:
    """Means per example over one slice of steps, in nats."""

    step: int  # optimiser steps taken in all, after this slice
    epoch: float  # epochs done in all
    steps: int  # steps in this slice
    examples: int
    loss: float  # −reconstruction + β·KL
    elbo: float
    reconstruction: float
    kl: float
    kl_per_dim: list[float] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def steps_per_s(self) -> float:
        return self.steps / self.seconds if self.seconds > 0 else math.nan

    def active_dims(self, threshold: float = ACTIVE_THRESHOLD) -> int:
        """Latent dimensions whose KL to the prior exceeds `threshold` nats (the rest have collapsed)."""
        return active_units(self.kl_per_dim, threshold)

    def to_dict(self) -> dict:
        return {**asdict(self), "steps_per_s": self.steps_per_s, "active_dims": self.active_dims()}

    @staticmethod
    def combine(parts: list["TrainMetrics"]) -> "TrainMetrics":
        """Example-weighted means over consecutive slices."""
        n = sum(p.examples for p in parts)

        def mean(name):
            return sum(getattr(p, name) * p.examples for p in parts) / n

        dims = [sum(p.kl_per_dim[i] * p.examples for p in parts) / n for i in range(len(parts[0].kl_per_dim))]
        return TrainMetrics(parts[-1].step, parts[-1].epoch, sum(p.steps for p in parts), n, mean("loss"),
                            mean("elbo"), mean("reconstruction"), mean("kl"), dims, sum(p.seconds for p in parts))


LIVE_SETTINGS = ("lr", "beta", "sigma_dec", "batch_size", "mc_samples", "epochs")


class DivergenceError(RuntimeError):
    """A slice of steps whose loss or weights went non-finite; the trainer is back at the slice's start."""

    def __init__(self, good_step: int, failed_step: int, lr: float):
        self.good_step, self.failed_step, self.lr = good_step, failed_step, lr
        super().__init__(f"training diverged between steps {good_step} and {failed_step} (the loss or the weights "
                         f"became NaN or infinite at lr = {lr:g}); the weights of step {good_step} are kept. "
                         "Lower the learning rate (or raise σ_dec) and continue.")


class Trainer:
    """Owns a model, its optimiser, the training tensor and the random state.

    `data` is the whole training split as one tensor [N, D]: floats in [0, 1] (see Dataset.to_float), or the
    uint8 pixels themselves (a quarter of the memory; each batch is divided by 255 as it is drawn).
    """

    def __init__(self, config: VAEConfig, data: torch.Tensor, device: str | torch.device | None = "auto",
                 model: VAE | None = None, world: World = World()):
        self.device = resolve_device(device) if not isinstance(device, torch.device) else device
        self.config = config
        self.world = world
        if data.ndim != 2 or data.shape[1] != config.data_dim or data.shape[0] < 1:
            raise ValueError(f"training data must be a non-empty [N, {config.data_dim}] tensor, got {list(data.shape)}")
        # float32 in [0, 1], or uint8 (0…255) made float batch by batch: x / 255, as Dataset.to_float does
        self.data = data.to(self.device) if data.dtype == torch.uint8 else data.to(self.device, torch.float32)
        if model is None:
            with torch.random.fork_rng(devices=[]):
                torch.manual_seed(config.seed)
                model = VAE(config)
        self.model = model.to(self.device)
        self._forward_model = self.model
        if world.distributed:
            from torch.nn.parallel import DistributedDataParallel

            self._forward_model = DistributedDataParallel(self.model)
        fused = self.device.type in ("cpu", "cuda")
        self.optimizer = torch.optim.Adam(self.model.parameters(), lr=config.lr, fused=fused)
        self.generator = torch.Generator(self.device).manual_seed(config.seed)
        self.step = 0
        self._order = torch.empty(0, dtype=torch.long, device=self.device)
        self._position = 0

    # -- settings that change between steps, without a reset -------------------------------------
    def update(self, **changes) -> None:
        """Change settings between steps (those in LIVE_SETTINGS), validated; the architecture stays fixed."""
        fixed = sorted(set(changes) - set(LIVE_SETTINGS))
        if fixed:
            raise ConfigError(f"{', '.join(fixed)} cannot change during training; start a new model instead")
        self.config = self.config.replace(**changes)
        for group in self.optimizer.param_groups:
            group["lr"] = self.config.lr
        self.model.config = self.config

    @property
    def steps_per_epoch(self) -> int:
        return math.ceil(self.data.shape[0] / self.config.batch_size)

    def scheduled(self, step: int | None = None) -> tuple[float, float]:
        """(lr_t, β_t) at optimiser step t (default: the next step) under the config's schedule.

        cosine: lr_t = lr · ½(1 + cos(π · min(t, T) / T)), T = epochs · steps per epoch. The schedule ends at
        T: a step past it would have lr 0 and change nothing, so `vae train` refuses --steps beyond T.
        KL warm-up: β_t = β · min(1, t / (warmup_epochs · steps per epoch)).
        """
        config, t = self.config, self.step if step is None else step
        lr, beta = config.lr, config.beta
        if config.lr_schedule == "cosine":
            total = config.epochs * self.steps_per_epoch
            lr = config.lr * 0.5 * (1 + math.cos(math.pi * min(t, total) / total))
        if config.warmup_epochs > 0:
            beta = config.beta * min(1.0, t / (config.warmup_epochs * self.steps_per_epoch))
        return lr, beta

    @property
    def epoch(self) -> float:
        return self.step / self.steps_per_epoch

    def _next_indices(self) -> torch.Tensor:
        """The data rows of the next step's minibatch (a new epoch's order is drawn first where one is due)."""
        if self._position >= self._order.shape[0]:
            self._order = torch.randperm(self.data.shape[0], generator=self.generator, device=self.device)
            self._position = 0
        return self._order[self._position: self._position + self.config.batch_size]

    def _next_batch(self) -> torch.Tensor:
        idx = self._next_indices()
        self._position += idx.shape[0]
        return self._as_float(self.data[idx])

    def upcoming_batch(self) -> torch.Tensor:
        """The minibatch the next step will train on, as floats in [0, 1] (before any binarising), not consumed:
        drawing it here changes nothing the run does."""
        return self._as_float(self.data[self._next_indices()])

    @staticmethod
    def _as_float(batch: torch.Tensor) -> torch.Tensor:
        return batch.float().div_(255.0) if batch.dtype == torch.uint8 else batch

    def _checkpoint_state(self) -> dict:
        """Everything a slice changes, copied: weights, optimiser moments, step, data order, generator."""
        clone = lambda d: {k: (v.clone() if torch.is_tensor(v) else v) for k, v in d.items()}  # noqa: E731
        return {"model": clone(self.model.state_dict()),
                "optimizer": {"state": {k: clone(v) for k, v in self.optimizer.state_dict()["state"].items()},
                              "param_groups": self.optimizer.state_dict()["param_groups"]},
                "step": self.step, "order": self._order, "position": self._position,
                "generator": self.generator.get_state()}

    def _restore_state(self, saved: dict) -> None:
        self.model.load_state_dict(saved["model"])
        self.optimizer.load_state_dict(saved["optimizer"])
        self.step, self._order, self._position = saved["step"], saved["order"], saved["position"]
        self.generator.set_state(saved["generator"])

    def run(self, steps: int) -> TrainMetrics:
        """Take `steps` optimiser steps; return the means over them.

        If the loss or the weights become NaN or infinite, the whole slice is undone (weights,
        optimiser, step count and random state back to its start) and DivergenceError is raised.
        """
        if steps < 1:
            raise ValueError(f"steps must be at least 1, got {steps}")
        saved = self._checkpoint_state()
        try:
            metrics = self._run(steps)
        except DivergenceError:
            self._restore_state(saved)
            raise
        return metrics

    def _run(self, steps: int) -> TrainMetrics:
        config, world = self.config, self.world
        self.model.train()
        start = time.perf_counter()
        sums = torch.zeros(4 + config.latent_dim, device=self.device)
        examples = 0
        scheduled = config.lr_schedule != "constant" or config.warmup_epochs > 0
        beta = config.beta
        for _ in range(steps):
            if scheduled:
                lr, beta = self.scheduled()
                for group in self.optimizer.param_groups:
                    group["lr"] = lr
            x = self._next_batch()
            batch = x.shape[0]
            if config.binarize:
                x = torch.bernoulli(x, generator=self.generator)
            eps = torch.randn((config.mc_samples, batch, config.latent_dim), generator=self.generator,
                              device=self.device)
            if world.distributed:
                x = x.tensor_split(world.size)[world.rank]
                eps = eps.tensor_split(world.size, dim=1)[world.rank]
            parts = elbo(self._forward_model, x, config.mc_samples, eps=eps)
            per_example = beta * parts.kl - parts.reconstruction
            # Mean over the global batch; DDP averages gradients over ranks, hence the factor W.
            loss = per_example.sum() * (world.size / batch)
            self.optimizer.zero_grad(set_to_none=True)
            loss.backward()
            self.optimizer.step()
            self.step += 1
            examples += batch
            with torch.no_grad():
                sums += torch.cat([torch.stack([per_example.sum(), parts.elbo.sum(), parts.reconstruction.sum(),
                                                parts.kl.sum()]), parts.kl_per_dim.sum(0)])
        world.all_reduce_sum(sums)
        if not (torch.isfinite(sums).all() and all(torch.isfinite(p).all() for p in self.model.parameters())):
            raise DivergenceError(self.step - steps, self.step, self.optimizer.param_groups[0]["lr"])
        means = (sums / examples).tolist()
        return TrainMetrics(self.step, self.epoch, steps, examples, means[0], means[1], means[2], means[3],
                            means[4:], time.perf_counter() - start)

    def run_epoch(self, on_progress=None, slice_steps: int = 25) -> TrainMetrics:
        """One pass over the data in slices of `slice_steps`; `on_progress(metrics)` after each slice."""
        return self.run_steps(self.steps_per_epoch, on_progress, slice_steps)

    def run_steps(self, steps: int, on_progress=None, slice_steps: int = 25) -> TrainMetrics:
        """`steps` optimiser steps in slices of `slice_steps`; `on_progress(metrics)` after each slice."""
        remaining, parts = steps, []
        while remaining > 0:
            parts.append(self.run(min(slice_steps, remaining)))
            remaining -= parts[-1].steps
            if on_progress is not None:
                on_progress(parts[-1])
        return TrainMetrics.combine(parts)


@torch.no_grad()
def probe(model, x: torch.Tensor, seed: int = 0) -> dict:
    """The model's state on a fixed batch x, at this step (not a mean over past steps): the ELBO with one fixed
    draw ε per image, its reconstruction term E_q[log p_θ(x|z)], KL(q ‖ p(z)) = ½ Σᵢ (σᵢ² + μᵢ² − 1 − log σᵢ²)
    exact, and the KL's two parts' drivers, the mean ‖μ‖² and the mean σᵢ², all averaged over the batch."""
    was_training = model.training
    model.eval()
    parts = elbo(model, x, samples=1, generator=torch.Generator(x.device).manual_seed(seed))
    mu, logvar = model.encode(x)
    model.train(was_training)
    return {"elbo": float(parts.elbo.mean()), "reconstruction": float(parts.reconstruction.mean()),
            "kl": float(parts.kl.mean()), "mu_squared": float(mu.pow(2).sum(-1).mean()),
            "variance": float(logvar.exp().mean())}


def probed_run(trainer: Trainer, steps: int, every: int, probe_batch: torch.Tensor, on_progress=None) -> list[dict]:
    """`steps` optimiser steps, with the model `probe`d on `probe_batch` before the first and after every `every`
    steps: [{step, elbo, reconstruction, kl, mu_squared, variance}]; `on_progress(record)` after each probe."""
    history = [{"step": trainer.step, **probe(trainer.model, probe_batch)}]
    while trainer.step < steps:
        trainer.run(min(every, steps - trainer.step))
        history.append({"step": trainer.step, **probe(trainer.model, probe_batch)})
        if on_progress is not None:
            on_progress(history[-1])
    return history
