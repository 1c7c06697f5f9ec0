"""A model's recipe as a command line: one `python -m vae` flag per VAEConfig field, written once.

The CLI's flags are made from `FIELDS` (vae.cli), and a checkpoint records the command that rebuilds it: `train_command`
for a trained model, `sweep_command` for a sweep, `live_command` for a live run when one command can retrain it.
"""
from __future__ import annotations

import dataclasses

from .config import LIKELIHOODS, LR_SCHEDULES, VAEConfig
from .data import DATASETS

DEFAULTS = VAEConfig()
FIELDS = [f.name for f in dataclasses.fields(VAEConfig) if f.name != "image_shape"]  # the image shape is the dataset's
SWEPT = ("sigma_dec", "beta")  # a sweep takes a list of values for one of them
CHOICES = {"dataset": tuple(DATASETS), "likelihood": LIKELIHOODS, "lr_schedule": LR_SCHEDULES}
HELP = {
    "dataset": "the data set (its images are 28 × 28)",
    "hidden": "encoder widths, e.g. 512,256 (the decoder mirrors them)",
    "sigma_dec": "σ_dec of the Gaussian decoder",
    "binarize": "dynamic binarisation (Bernoulli models)",
    "beta": "the KL term's weight β",
    "mc_samples": "L, z samples per example",
    "lr_schedule": "cosine: decay lr to 0 over the run",
    "warmup_epochs": "KL warm-up: β rises linearly from 0 over this many epochs",
}


def flag(name: str) -> str:
    """The command-line flag of a VAEConfig field: sigma_dec → --sigma-dec."""
    return "--" + name.replace("_", "-")


def text(value) -> str:
    """A field's value as its flag takes it: 512,256 for a tuple, 0.001 for a float."""
    if isinstance(value, tuple):
        return ",".join(map(str, value))
    return f"{value:g}" if isinstance(value, float) else str(value)


def flags(config: VAEConfig, skip: tuple[str, ...] = ()) -> list[str]:
    """Every field of `config` as flags (a true switch by its name alone, a false one left out)."""
    out = []
    for name in FIELDS:
        value = getattr(config, name)
        if name in skip or value is False:
            continue
        out.append(flag(name) if value is True else f"{flag(name)} {text(value)}")
    return out


def train_command(config: VAEConfig, limit: int | None = None, save_test_latents: bool = False,
                  eval_iw_samples: int = 10, steps: int | None = None) -> str:
    """The `python -m vae train` command that rebuilds this checkpoint (data folder aside)."""
    parts = ["python -m vae train", *flags(config)]
    parts += [f"--limit {limit}"] if limit else []
    parts += [f"--eval-iw-samples {eval_iw_samples}"] + (["--save-test-latents"] if save_test_latents else [])
    parts += [f"--steps {steps}"] if steps is not None else []
    return " ".join(parts)


def sweep_command(base: VAEConfig, parameter: str, values, out_dir, prefix: str, limit: int | None = None,
                  save_test_latents: bool = False, eval_iw_samples: int = 10) -> str:
    """The `python -m vae sweep` command that reruns a sweep of `parameter` (σ_dec or β) over `values`."""
    parts = ["python -m vae sweep", f"--out-dir {out_dir}", f"--prefix {prefix}", *flags(base, skip=(parameter,)),
             f"{flag(parameter)} {','.join(f'{v:g}' for v in values)}"]
    parts += [f"--limit {limit}"] if limit else []
    parts += [f"--eval-iw-samples {eval_iw_samples}"] + (["--save-test-latents"] if save_test_latents else [])
    return " ".join(parts)


def live_command(config: VAEConfig, settings: list[dict], steps: int, limit: int | None = None) -> str:
    """The command that retrains a live run, or a plain statement that no single command can.

    `settings`: (step, lr, beta, sigma_dec) at the start and after each change. One entry: the run
    trained `steps` steps with them, which `python -m vae train ... --steps N` repeats step for step.
    """
    if len(settings) > 1:
        changes = "; ".join(f"from step {s['step']}: lr {s['lr']:g}, β {s['beta']:g}, σ_dec {s['sigma_dec']:g}"
                            for s in settings)
        return (f"No single command reproduces this model: its settings changed during its {steps} steps of live "
                f"training ({changes}).")
    first = settings[0]
    config = config.replace(lr=first["lr"], beta=first["beta"], sigma_dec=first["sigma_dec"])
    return train_command(config, limit, steps=steps)
