"""One configuration object: every knob of a model and its training, as JSON-able primitives."""
from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass, field

from .data import DATASETS

LIKELIHOODS = ("gaussian", "bernoulli")
LR_SCHEDULES = ("constant", "cosine")
MAX_LATENT_DIM = 1024
MAX_HIDDEN_WIDTH = 8192
MAX_HIDDEN_LAYERS = 8


class ConfigError(ValueError):
    """A configuration that cannot describe a valid model; the message says which field and why."""


@dataclass(frozen=True)
class VAEConfig:
    """Architecture, likelihood and optimisation settings of one VAE.

    `hidden` lists the encoder's hidden widths (784 → hidden… → 2·latent_dim); the decoder mirrors it.
    `sigma_dec` is the std of the Gaussian decoder p(x|z) = N(decode(z), σ_dec² I); unused by Bernoulli.
    `binarize`: sample x ~ Bernoulli(pixel) afresh each batch (dynamic binarisation), for Bernoulli models.
    `mc_samples` is L, the number of z samples per example in the ELBO estimate.
    `lr_schedule`: "constant", or "cosine": lr_t = lr · ½(1 + cos(π t / T)) over the T steps of `epochs`.
    `warmup_epochs`: KL warm-up, β_t = β · min(1, t / (warmup_epochs · steps per epoch)); 0 = none.
    """

    dataset: str = "mnist"
    latent_dim: int = 2
    hidden: tuple[int, ...] = (512, 256)
    likelihood: str = "gaussian"
    sigma_dec: float = 0.3
    binarize: bool = False
    beta: float = 1.0
    lr: float = 1e-3
    batch_size: int = 128
    epochs: int = 10
    seed: int = 0
    mc_samples: int = 1
    lr_schedule: str = "constant"
    warmup_epochs: float = 0.0
    image_shape: tuple[int, ...] = field(default=(28, 28))

    def __post_init__(self):
        object.__setattr__(self, "hidden", tuple(self.hidden))
        object.__setattr__(self, "image_shape", tuple(self.image_shape))
        self.validate()

    @property
    def data_dim(self) -> int:
        """D, the number of pixels."""
        return math.prod(self.image_shape)

    def validate(self) -> None:
        def positive_int(name, value, upper):
            if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= upper:
                raise ConfigError(f"{name} must be an integer from 1 to {upper}, got {value!r}")

        def positive_float(name, value, upper=math.inf):
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                raise ConfigError(f"{name} must be a number, got {value!r}")
            if not (math.isfinite(value) and 0 < value <= upper):
                raise ConfigError(f"{name} must be a finite number above 0 (and at most {upper}), got {value!r}")

        if self.dataset not in DATASETS:
            raise ConfigError(f"dataset must be one of {', '.join(map(repr, DATASETS))}, got {self.dataset!r}")
        positive_int("latent_dim", self.latent_dim, MAX_LATENT_DIM)
        if not 1 <= len(self.hidden) <= MAX_HIDDEN_LAYERS:
            raise ConfigError(f"hidden must list 1 to {MAX_HIDDEN_LAYERS} layer widths, got {list(self.hidden)!r}")
        for width in self.hidden:
            positive_int("each hidden width", width, MAX_HIDDEN_WIDTH)
        if self.likelihood not in LIKELIHOODS:
            raise ConfigError(f"likelihood must be one of {LIKELIHOODS}, got {self.likelihood!r}")
        positive_float("sigma_dec", self.sigma_dec, 100.0)
        if not isinstance(self.binarize, bool):
            raise ConfigError(f"binarize must be true or false, got {self.binarize!r}")
        if isinstance(self.beta, bool) or not isinstance(self.beta, (int, float)) or not (
            math.isfinite(self.beta) and 0 <= self.beta <= 1000
        ):
            raise ConfigError(f"beta must be a finite number from 0 to 1000, got {self.beta!r}")
        positive_float("lr", self.lr, 10.0)
        positive_int("batch_size", self.batch_size, 65536)
        positive_int("epochs", self.epochs, 100000)
        if isinstance(self.seed, bool) or not isinstance(self.seed, int) or not 0 <= self.seed < 2**63:
            raise ConfigError(f"seed must be a non-negative integer, got {self.seed!r}")
        positive_int("mc_samples", self.mc_samples, 4096)
        if self.lr_schedule not in LR_SCHEDULES:
            raise ConfigError(f"lr_schedule must be one of {LR_SCHEDULES}, got {self.lr_schedule!r}")
        if isinstance(self.warmup_epochs, bool) or not isinstance(self.warmup_epochs, (int, float)) or not (
            math.isfinite(self.warmup_epochs) and 0 <= self.warmup_epochs <= 100000
        ):
            raise ConfigError(f"warmup_epochs must be a number from 0 to 100000, got {self.warmup_epochs!r}")
        if len(self.image_shape) not in (2, 3):
            raise ConfigError(f"image_shape must be (H, W) or (C, H, W), got {list(self.image_shape)!r}")
        for side in self.image_shape:
            positive_int("each image side", side, 4096)

    def replace(self, **changes) -> "VAEConfig":
        """A copy with some fields changed (validated)."""
        return dataclasses.replace(self, **changes)

    def to_dict(self) -> dict:
        d = dataclasses.asdict(self)
        d["hidden"] = list(self.hidden)
        d["image_shape"] = list(self.image_shape)
        return d

    @classmethod
    def from_dict(cls, data: dict) -> "VAEConfig":
        """Build from a JSON object, refusing unknown keys and wrong types with a clear message."""
        if not isinstance(data, dict):
            raise ConfigError(f"a config must be a JSON object, got {type(data).__name__}")
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise ConfigError(f"unknown config keys: {', '.join(map(str, unknown))}")
        kwargs = dict(data)
        for key in ("hidden", "image_shape"):
            if key in kwargs:
                if not isinstance(kwargs[key], (list, tuple)):
                    raise ConfigError(f"{key} must be a list of integers, got {kwargs[key]!r}")
                kwargs[key] = tuple(kwargs[key])
        for key in ("sigma_dec", "lr", "beta", "warmup_epochs"):  # JSON writes 1.0 as 1; accept ints for floats
            if isinstance(kwargs.get(key), int) and not isinstance(kwargs.get(key), bool):
                kwargs[key] = float(kwargs[key])
        for key in ("dataset", "likelihood", "lr_schedule"):
            if key in kwargs and not isinstance(kwargs[key], str):
                raise ConfigError(f"{key} must be a string, got {kwargs[key]!r}")
        return cls(**kwargs)
