"""Rate–distortion sweep: one model per σ_dec (or β), each scored on the test split.

Rate R = E_x KL(q_φ(z|x) ‖ p(z)) (nats), distortion D = E_x E_q ‖x − decode(z)‖². A Gaussian decoder
with σ_dec trains −ELBO = ‖x − x̂‖²/(2σ²) + KL + const, i.e. D + 2σ²·R: each σ picks one point of the
R–D trade-off (β = 2σ² in β-VAE terms). As σ grows the rate falls and latent units fall silent
(KL per dimension → 0): the posterior collapses. The results go to `sweep.json` beside the checkpoints.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from .config import VAEConfig
from .collapse import active_units

PARAMETERS = ("sigma_dec", "beta")
RESULTS_FILE = "sweep.json"


def model_name(prefix: str, parameter: str, value: float) -> str:
    """Checkpoint name of one sweep member, e.g. mnist-16d-sigma0.3."""
    return f"{prefix}-{'sigma' if parameter == 'sigma_dec' else 'beta'}{value:g}"


@dataclass
class SweepPoint:
    name: str
    value: float
    rate: float
    distortion: float
    elbo: float
    log_px_iwae: float
    active_dims: int
    kl_per_dim: list[float]


def run_sweep(base: VAEConfig, parameter: str, values: list[float], out_dir: Path, train_data, test_data,
              prefix: str, command: str, iw_samples: int = 10, on_epoch=None, on_model=None, test_labels=None) -> dict:
    """Train one model per value of `parameter`, save each as `out_dir/<name>.safetensors`, and write sweep.json.

    train_data / test_data: float tensors [N, D]. `on_epoch(name, epoch, metrics)` after each epoch,
    `on_model(point)` after each model. With `test_labels`, each checkpoint also stores the test split's
    latents (and t-SNE map) that the app draws, as `train --save-test-latents` does. Returns the results
    dict written to sweep.json.
    """
    from . import checkpoint
    from .evaluate import evaluate
    from .latent import test_latent_extras
    from .train import Trainer

    if parameter not in PARAMETERS:
        raise ValueError(f"a sweep runs over one of {PARAMETERS}, got {parameter!r}")
    if not values:
        raise ValueError("a sweep needs at least one value")
    configs = [base.replace(**{parameter: float(v)}) for v in values]  # validates every value before training
    out_dir.mkdir(parents=True, exist_ok=True)
    points: list[SweepPoint] = []
    results = {"parameter": parameter, "command": command, "config": base.to_dict(), "points": []}
    for config in configs:
        value = getattr(config, parameter)
        name = model_name(prefix, parameter, value)
        trainer = Trainer(config, train_data, train_data.device)
        for epoch in range(1, config.epochs + 1):
            m = trainer.run_epoch()
            if on_epoch is not None:
                on_epoch(name, epoch, m)
        test = evaluate(trainer.model, test_data, iw_samples=iw_samples)
        meta = {"command": command, "sweep": {"parameter": parameter, "value": value}}
        extras = {} if test_labels is None else test_latent_extras(trainer.model, test_data, test_labels)
        checkpoint.save(out_dir / f"{name}.safetensors", trainer.model, {"train": m.to_dict(), "test": test}, meta,
                        extras)
        point = SweepPoint(name, value, test["kl"], test["distortion"], test["elbo"], test["log_px_iwae"],
                           active_units(test["kl_per_dim"]), test["kl_per_dim"])
        points.append(point)
        results["points"] = [vars(p) for p in points]
        checkpoint.write_atomic(out_dir / RESULTS_FILE, json.dumps(results, indent=1).encode())
        if on_model is not None:
            on_model(point)
    return results


def load_results(folder: str | Path) -> dict:
    """sweep.json of a sweep folder, checked for the fields the page reads; ValueError if it is not one."""
    path = Path(folder) / RESULTS_FILE
    try:
        results = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ValueError(f"{path}: not a readable sweep result ({exc})") from None
    if not isinstance(results, dict) or results.get("parameter") not in PARAMETERS or not isinstance(
            results.get("points"), list):
        raise ValueError(f"{path}: not a sweep result (needs 'parameter' and 'points')")
    for point in results["points"]:
        if not isinstance(point, dict) or not all(isinstance(point.get(k), (int, float)) for k in
                                                  ("value", "rate", "distortion", "elbo", "active_dims")):
            raise ValueError(f"{path}: a point lacks value, rate, distortion, elbo or active_dims")
    return results


def collapse_value(results: dict) -> float | None:
    """The smallest swept value at which no latent unit is active (the posterior has collapsed), or None."""
    collapsed = [p["value"] for p in results["points"] if p["active_dims"] == 0]
    return min(collapsed) if collapsed else None


def reconstruction_term(point: dict) -> float:
    """A member's stored E_q[log p(x|z)] on the test split: ELBO = E_q[log p(x|z)] − KL, so ELBO + rate."""
    return point["elbo"] + point["rate"]


def member_terms(model, x, samples: int = 64, seed: int = 0) -> dict:
    """One image under one member at its own σ_dec: reconstruction term, KL, ELBO, distortion E_q‖x − x̂‖²
    (L = `samples` draws, fixed seed) and its reconstruction decode(μ) as a [D] array."""
    import torch

    from .objective import elbo

    x = x.reshape(1, -1).to(model.device)
    with torch.no_grad():
        parts = elbo(model, x, samples=samples, generator=torch.Generator(x.device).manual_seed(seed),
                     with_distortion=True)
        image = model.decode(model.encode(x)[0])[0].cpu().numpy()
    return {"reconstruction": parts.reconstruction.item(), "kl": parts.kl.item(), "elbo": parts.elbo.item(),
            "distortion": parts.distortion.item(), "image": image}
