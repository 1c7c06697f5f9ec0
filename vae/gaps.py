"""Why q misses the posterior: the ELBO's gap split in two (Cremer, Li & Duvenaud, ICML 2018).

    log p(x) − ELBO(q_φ) = [log p(x) − ELBO(q*)] + [ELBO(q*) − ELBO(q_φ)]
                           approximation gap        amortisation gap

q_φ(z|x) is what the encoder gives; q* = argmax ELBO(x; μ, σ) over every diagonal Gaussian N(μ, diag σ²), the best
one for this image alone, found here by ascending the ELBO from q_φ (`refine`). The approximation gap,
KL(q* ‖ p(z|x)), is what the Gaussian family cannot reach; the amortisation gap is what one encoder for every
image gives away. K steps of the same ascent is semi-amortised inference (Kim et al., ICML 2018): the remedy.

The ELBO of a given q (vae.objective.gaussian_elbo) is a product Gauss–Hermite quadrature for d ≤ 2, exact to far
below 0.01 nats, and Monte Carlo for d > 2: a fixed set of draws while ascending (a smooth objective), fresh draws
shared by q_φ and q* when the figures are reported (so their difference has a small standard error). log p(x) is
the grid integral of vae.posterior for d = 2 and IWAE with q* as its proposal for d > 2, a lower bound: the
approximation gap is then estimated from below.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import torch

from .objective import gaussian_elbo, gaussian_elbo_terms, iwae_log_px

FIT_NODES = 6  # d ≤ 2: Gauss–Hermite nodes per dimension while ascending (36 in 2-D)
SCORE_NODES = 32  # d ≤ 2: per dimension for the reported ELBOs; half as many gives their error
FIT_SAMPLES = 32  # d > 2: fixed draws while ascending
SCORE_SAMPLES = 1000  # d > 2: fresh draws for the reported ELBOs, shared by q_φ and q*
IWAE_SAMPLES, IWAE_REPEATS = 1000, 5  # d > 2: log p(x) by IWAE with q* as its proposal, repeated for its error
CHECK_SAMPLES = 200  # d > 2: fresh draws of their own on which q* must beat q_φ, else q* is q_φ (see split_many)
LEARNING_RATE = 0.05  # Adam's, in q_φ's own units (μ in σ_φ's, log σ in nats)
REFINE_STEPS = (0, 1, 3, 10, 30, 100, 300)  # the remedy's K, at the constant learning rate
POLISH_STEPS = 200  # q*: after the last K, the learning rate falls to 0 (cosine) over these
BATCH = 100  # images ascended together (each image's parameters move on their own gradients)


def hermite_rule(dim: int, nodes: int) -> tuple[torch.Tensor, torch.Tensor]:
    """The product Gauss–Hermite rule for E_{ε ~ N(0, I_dim)}[f(ε)] ≈ Σₗ wₗ f(εₗ): (ε [nodes^dim, dim], w summing
    to one). Exact for polynomials of degree < 2·nodes in each coordinate."""
    points, weights = np.polynomial.hermite_e.hermegauss(nodes)
    grids = np.meshgrid(*[points] * dim, indexing="ij")
    eps = np.stack([g.reshape(-1) for g in grids], -1)
    w = np.prod(np.meshgrid(*[weights] * dim, indexing="ij"), 0).reshape(-1)
    return torch.tensor(eps, dtype=torch.float32), torch.tensor(w / w.sum(), dtype=torch.float32)


def draws(dim: int, fitting: bool, seed: int = 0, nodes: int | None = None):
    """The ε (and weights, None for Monte Carlo) of an ELBO estimate: Gauss–Hermite for d ≤ 2 (`FIT_NODES` or
    `SCORE_NODES` per dimension), seeded standard normal draws for d > 2 (`FIT_SAMPLES` or `SCORE_SAMPLES`)."""
    if dim <= 2:
        return hermite_rule(dim, nodes or (FIT_NODES if fitting else SCORE_NODES))
    generator = torch.Generator().manual_seed(seed)
    return torch.randn(FIT_SAMPLES if fitting else SCORE_SAMPLES, dim, generator=generator), None


@dataclass
class Refinement:
    """Each image's q after K steps of the ascent, for every K of `steps`, and q* at the end ([N, d] tensors)."""

    steps: tuple[int, ...]
    mus: list[torch.Tensor]  # μ after each K of `steps`
    logvars: list[torch.Tensor]
    mu: torch.Tensor  # q*: the best point of the whole ascent
    logvar: torch.Tensor
    fit_elbo: torch.Tensor  # q*'s ELBO on the fitting nodes [N]


def refine(model, x: torch.Tensor, steps=REFINE_STEPS, polish: int = POLISH_STEPS, sigma_dec: float | None = None,
           lr: float = LEARNING_RATE, seed: int = 0, on_progress=None, start=None) -> Refinement:
    """Semi-amortised inference: Adam steps on each image's (μ, log σ²), ascending ELBO(x; μ, σ) on fixed nodes
    (`draws`), started at the encoder's q_φ(z|x). The parameters are q_φ's own units, μ = μ_φ + σ_φ ⊙ a and
    log σ = log σ_φ + b, so that one learning rate suits a wide q and a narrow one. The learning rate is constant up
    to the last K of `steps`, then falls to 0 over `polish` steps; each image keeps the best point it reached (its
    ELBO never falls below q_φ's). x [N, D]; `on_progress(done, total)` after each batch of images. `start` =
    (μ, log σ²) [N, d] starts the ascent elsewhere than at q_φ."""
    model.eval()  # its weights are left as they are: the gradients are taken for (a, b) alone (a shared model)
    config = model.config
    eps, weights = draws(config.latent_dim, True, seed)
    eps = eps.to(model.device)
    weights = None if weights is None else weights.to(model.device)
    last = max(steps)
    total = last + polish
    out_mu, out_logvar, out_elbo = [], [], []
    paths = {k: ([], []) for k in steps}
    x = x.flatten(1).to(model.device, torch.float32)
    for first in range(0, x.shape[0], BATCH):
        xb = x[first: first + BATCH]
        with torch.no_grad():
            mu0, logvar0 = model.encode(xb) if start is None else (start[0][first: first + BATCH].to(xb),
                                                                   start[1][first: first + BATCH].to(xb))
        sigma0 = torch.exp(0.5 * logvar0)
        a = torch.zeros_like(mu0, requires_grad=True)
        b = torch.zeros_like(mu0, requires_grad=True)
        optimiser = torch.optim.Adam([a, b], lr=lr)
        best = torch.full((xb.shape[0],), -math.inf, device=model.device)
        best_mu, best_logvar = mu0.clone(), logvar0.clone()
        for step in range(total + 1):
            mu, logvar = mu0 + sigma0 * a, logvar0 + 2 * b
            value = gaussian_elbo(model, xb, mu, logvar, eps, weights, sigma_dec)
            with torch.no_grad():
                better = value > best
                best = torch.where(better, value, best)
                best_mu[better], best_logvar[better] = mu[better], logvar[better]
            if step in paths:
                paths[step][0].append(best_mu.clone())
                paths[step][1].append(best_logvar.clone())
            if step == total:
                break
            if step >= last:
                for group in optimiser.param_groups:
                    group["lr"] = lr * 0.5 * (1 + math.cos(math.pi * (step - last) / polish))
            a.grad, b.grad = torch.autograd.grad(-value.sum(), [a, b])
            optimiser.step()
        out_mu.append(best_mu)
        out_logvar.append(best_logvar)
        out_elbo.append(best)
        if on_progress is not None:
            on_progress(min(first + BATCH, x.shape[0]), x.shape[0])
    return Refinement(tuple(steps), [torch.cat(paths[k][0]) for k in steps], [torch.cat(paths[k][1]) for k in steps],
                      torch.cat(out_mu), torch.cat(out_logvar), torch.cat(out_elbo))


@torch.no_grad()
def scored_elbo(model, x: torch.Tensor, mu: torch.Tensor, logvar: torch.Tensor, sigma_dec: float | None = None,
                seed: int = 1, samples: int = SCORE_SAMPLES) -> tuple[torch.Tensor, torch.Tensor]:
    """(ELBO(x; μ, σ) [N], its error [N]) as reported: for d ≤ 2 the Gauss–Hermite rule of `SCORE_NODES` per
    dimension, its error the change from half as many; for d > 2 the mean over `SCORE_SAMPLES` fresh draws (seed
    `seed`, the same for every q scored, so that differences are paired), its error the standard error."""
    dim = model.config.latent_dim
    x = x.flatten(1).to(model.device, torch.float32)
    if dim <= 2:
        eps, w = draws(dim, False)
        fine = gaussian_elbo(model, x, mu, logvar, eps, w, sigma_dec)
        eps, w = draws(dim, False, nodes=SCORE_NODES // 2)
        return fine, (fine - gaussian_elbo(model, x, mu, logvar, eps, w, sigma_dec)).abs()
    return mean_and_error(scored_terms(model, x, mu, logvar, sigma_dec, seed, samples))


def scored_terms(model, x: torch.Tensor, mu: torch.Tensor, logvar: torch.Tensor, sigma_dec: float | None = None,
                 seed: int = 1, samples: int = SCORE_SAMPLES) -> torch.Tensor:
    """d > 2: each of `samples` fresh draws' ELBO term (seed `seed`) for each image, [L, N], `BATCH` images at a
    time (vae.objective.gaussian_elbo_terms)."""
    eps = torch.randn(samples, model.config.latent_dim, generator=torch.Generator().manual_seed(seed)).to(x)
    return torch.cat([gaussian_elbo_terms(model, x[first: first + BATCH], mu[first: first + BATCH],
                                          logvar[first: first + BATCH], eps, sigma_dec)
                      for first in range(0, x.shape[0], BATCH)], 1)


def mean_and_error(terms: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """(the mean over draws [N], its standard error [N]) of terms [L, N]."""
    return terms.mean(0), terms.std(0) / math.sqrt(terms.shape[0])


def refined_elbos(model, x: torch.Tensor, steps: int, sigma_dec: float | None = None, samples: int = SCORE_SAMPLES,
                  seed: int = 0, on_progress=None) -> tuple[torch.Tensor, torch.Tensor]:
    """The remedy on a batch of images x [N, D]: (ELBO(q_φ) [N], ELBO after K = `steps` steps of the ascent [N]),
    both scored as `scored_elbo` does, on the same draws."""
    found = refine(model, x, steps=(0, steps), polish=0, sigma_dec=sigma_dec, seed=seed, on_progress=on_progress)
    x = x.flatten(1).to(model.device, torch.float32)
    before = scored_elbo(model, x, found.mus[0], found.logvars[0], sigma_dec, samples=samples)[0]
    return before, scored_elbo(model, x, found.mus[-1], found.logvars[-1], sigma_dec, samples=samples)[0]


@dataclass
class GapSplit:
    """One image's gap split in two, in nats, each figure with its error (see the module's docstring)."""

    log_px: float
    log_px_error: float  # the grid's last refinement (d = 2), or IWAE's standard error over its repeats
    log_px_how: str  # "grid" or "iwae"
    elbo_amortised: float  # ELBO(q_φ)
    elbo_optimal: float  # ELBO(q*)
    elbo_error: float  # the ELBOs' error (quadrature's change, or each one's standard error)
    amortisation_error: float  # ELBO(q*) − ELBO(q_φ)'s error (paired draws)
    mu: np.ndarray  # q_φ's μ and σ, and q*'s
    sigma: np.ndarray
    optimal_mu: np.ndarray
    optimal_sigma: np.ndarray
    sigma_dec: float
    refined: dict = field(default_factory=dict)  # K → ELBO after K steps of the ascent

    @property
    def total(self) -> float:
        return self.log_px - self.elbo_amortised

    @property
    def approximation(self) -> float:
        return self.log_px - self.elbo_optimal

    @property
    def amortisation(self) -> float:
        return self.elbo_optimal - self.elbo_amortised

    @property
    def approximation_error(self) -> float:
        return math.hypot(self.log_px_error, self.elbo_error)

    total_error = approximation_error  # the same two errors: log p(x)'s and the ELBOs' (the larger of the two)


def split(model, x: torch.Tensor, sigma_dec: float | None = None, seed: int = 0, on_progress=None) -> GapSplit:
    """One image's approximation and amortisation gaps at σ_dec (the model's when None). x: [D] or [1, D]."""
    return split_many(model, x.reshape(1, -1), sigma_dec, seed, on_progress)[0]


def split_many(model, x: torch.Tensor, sigma_dec: float | None = None, seed: int = 0,
               on_progress=None) -> list[GapSplit]:
    """`split` for each image of x [N, D]. For a 2-D model log p(x) comes first, image by image, and q* is the better
    of two ascents: from q_φ and from the Gaussian with the true posterior's mean and variances (so that a posterior
    far from q_φ, or with two modes, is not left at a local optimum near q_φ). For d > 2 the ascent starts at q_φ
    alone and q* is the optimum it reaches, unless q_φ does better on `CHECK_SAMPLES` draws of their own (seed 2):
    on a nearly collapsed posterior the ascent fits its `FIT_SAMPLES` fixed draws, not the ELBO, and q_φ is then the
    best Gaussian found (checked on draws apart from the reported ones, so the report is not biased by the choice).
    `on_progress(done, total, what)` reports each pass."""
    config = model.config
    sigma = config.sigma_dec if sigma_dec is None else float(sigma_dec)
    x = x.flatten(1).to(model.device, torch.float32)
    n = x.shape[0]
    report = (lambda what: (lambda done, total: on_progress(done, total, what))) if on_progress else (lambda what: None)
    grid = None
    if config.latent_dim == 2:
        grid = grid_evidence(model, x, sigma, report("log p(x) by quadrature"))
    found = refine(model, x, sigma_dec=sigma, seed=seed, on_progress=report("ascending the ELBO from q_φ"))
    if grid is not None:
        other = refine(model, x, steps=(0,), sigma_dec=sigma, seed=seed, start=(grid[2], grid[3]),
                       on_progress=report("ascending it from the true posterior's moments"))
        better = other.fit_elbo > found.fit_elbo
        found.mu[better], found.logvar[better] = other.mu[better], other.logvar[better]
        found.fit_elbo = torch.maximum(found.fit_elbo, other.fit_elbo)
    with torch.no_grad():
        mu0, logvar0 = model.encode(x)
        if grid is None:
            worse = (scored_elbo(model, x, found.mu, found.logvar, sigma, seed=2, samples=CHECK_SAMPLES)[0]
                     < scored_elbo(model, x, mu0, logvar0, sigma, seed=2, samples=CHECK_SAMPLES)[0])
            found.mu[worse], found.logvar[worse] = mu0[worse], logvar0[worse]
        refined = {k: scored_elbo(model, x, m, v, sigma)[0] for k, m, v in zip(found.steps, found.mus, found.logvars)}
        if grid is None:  # both on the same draws: their difference's error from the paired terms
            terms0 = scored_terms(model, x, mu0, logvar0, sigma)
            terms1 = scored_terms(model, x, found.mu, found.logvar, sigma)
            (amortised, error0), (optimal, error1) = mean_and_error(terms0), mean_and_error(terms1)
            amortisation_error = mean_and_error(terms1 - terms0)[1]
        else:
            amortised, error0 = scored_elbo(model, x, mu0, logvar0, sigma)
            optimal, error1 = scored_elbo(model, x, found.mu, found.logvar, sigma)
            amortisation_error = torch.hypot(error0, error1)
    log_px, log_px_error = grid[:2] if grid is not None else iwae_evidence(model, x, sigma, found, seed,
                                                                           report("log p(x) by IWAE"))
    results = []
    for i in range(n):
        results.append(GapSplit(
            float(log_px[i]), float(log_px_error[i]), "grid" if grid is not None else "iwae",
            float(amortised[i]), float(optimal[i]), float(max(error0[i], error1[i])), float(amortisation_error[i]),
            mu0[i].double().cpu().numpy(), torch.exp(0.5 * logvar0[i]).double().cpu().numpy(),
            found.mu[i].double().cpu().numpy(), torch.exp(0.5 * found.logvar[i]).double().cpu().numpy(), sigma,
            {k: float(v[i]) for k, v in refined.items()}))
    return results


@torch.no_grad()
def grid_evidence(model, x: torch.Tensor, sigma_dec: float, on_progress=None):
    """For a 2-D model, image by image: (log p(x) [N], its error [N], the posterior's mean [N, 2], the log of its
    variances [N, 2]), from the converged grid integral of vae.posterior.evidence_grid (its error the change of its
    last halving of the cells); mean and variances are moments of p(z|x) = exp(log p(x, z) − log p(x)) on that grid."""
    from .posterior import evidence_grid

    values, errors, means, logvars = [], [], [], []
    for i in range(x.shape[0]):
        log_px, xs, ys, z, joint, _, change = evidence_grid(model, x[i].double(), sigma_dec)
        mass = torch.exp(joint - log_px) * float((xs[1] - xs[0]) * (ys[1] - ys[0]))
        mean = (mass[:, None] * z).sum(0) / mass.sum()
        variance = (mass[:, None] * (z - mean).pow(2)).sum(0) / mass.sum()
        values.append(log_px)
        errors.append(change)
        means.append(mean.float())
        logvars.append(torch.log(variance).float())
        if on_progress is not None:
            on_progress(i + 1, x.shape[0])
    return torch.tensor(values), torch.tensor(errors), torch.stack(means), torch.stack(logvars)


@torch.no_grad()
def iwae_evidence(model, x: torch.Tensor, sigma_dec: float, found: Refinement, seed: int = 0, on_progress=None):
    """(log p(x) [N], its standard error [N]) by IWAE with K = `IWAE_SAMPLES` draws from q*, the mean of
    `IWAE_REPEATS` repeats: a lower bound on log p(x) in expectation."""
    n = x.shape[0]
    generator = torch.Generator(model.device).manual_seed(seed)
    estimates = []
    for first in range(0, n, BATCH):
        rows = slice(first, first + BATCH)
        proposal = (found.mu[rows], found.logvar[rows])
        estimates.append(torch.stack([iwae_log_px(model, x[rows], IWAE_SAMPLES, sigma_dec, generator,
                                                  proposal=proposal) for _ in range(IWAE_REPEATS)]))
        if on_progress is not None:
            on_progress(min(first + BATCH, n), n)
    repeats = torch.cat(estimates, 1).double().cpu()
    return repeats.mean(0), repeats.std(0) / math.sqrt(IWAE_REPEATS)


RESULTS_FOLDER = "gaps"  # a checkpoint's test-set gaps: <its folder>/gaps/<its name>.json
FIELDS = ("log_px", "log_px_error", "elbo_amortised", "elbo_optimal", "elbo_error", "amortisation_error")
VECTORS = ("mu", "sigma", "optimal_mu", "optimal_sigma")


def results_path(checkpoint_path):
    """Where the test-set gaps of the checkpoint at `checkpoint_path` are kept: beside it, gaps/<name>.json (a Path)."""
    from pathlib import Path

    checkpoint_path = Path(checkpoint_path)
    return checkpoint_path.parent / RESULTS_FOLDER / f"{checkpoint_path.stem}.json"


def test_set(model, x: torch.Tensor, labels, indices, sigma_dec: float | None = None, seed: int = 0,
             on_progress=None, **about) -> dict:
    """The split of every image of x [N, D] (test images `indices`, classes `labels`) as one JSON-ready dict: a list
    per figure of GapSplit, the refined ELBOs per K, and how they were computed (`about` adds fields, e.g. the
    model's name and the command)."""
    import time

    began = time.perf_counter()
    splits = split_many(model, x, sigma_dec, seed, on_progress)
    config = model.config
    out = {**about, "sigma_dec": splits[0].sigma_dec if splits else sigma_dec, "latent_dim": config.latent_dim,
           "likelihood": config.likelihood, "dataset": config.dataset, "how": "grid" if config.latent_dim == 2 else
           "iwae", "images": len(splits), "index": [int(i) for i in indices], "label": [int(c) for c in labels],
           "settings": {"fit_nodes": FIT_NODES, "score_nodes": SCORE_NODES, "fit_samples": FIT_SAMPLES,
                        "score_samples": SCORE_SAMPLES, "check_samples": CHECK_SAMPLES,
                        "iwae_samples": IWAE_SAMPLES, "iwae_repeats": IWAE_REPEATS,
                        "learning_rate": LEARNING_RATE, "polish_steps": POLISH_STEPS, "seed": seed}}
    for name in FIELDS:
        out[name] = [round(getattr(s, name), 5) for s in splits]
    for name in VECTORS:
        out[name] = [[round(float(v), 4) for v in getattr(s, name)] for s in splits]  # 16 or 50 of them an image
    out["refined"] = {str(k): [round(s.refined[k], 5) for s in splits] for k in REFINE_STEPS}
    out["seconds"] = round(time.perf_counter() - began, 1)
    return out


def splits_of(results: dict) -> list[GapSplit]:
    """The GapSplit of each image of a `test_set` result."""
    n = results["images"]
    return [GapSplit(*(results[f][i] for f in FIELDS[:2]), results["how"], *(results[f][i] for f in FIELDS[2:]),
                     *(np.asarray(results[f][i]) for f in VECTORS), results["sigma_dec"],
                     {int(k): v[i] for k, v in results["refined"].items()}) for i in range(n)]


def load_results(path) -> dict:
    """A `test_set` result written as JSON, checked for the fields the pages read; ValueError if it is not one."""
    import json
    from pathlib import Path

    try:
        results = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ValueError(f"{path}: not a readable gaps result ({exc})") from None
    n = results.get("images") if isinstance(results, dict) else None
    if not isinstance(n, int) or not all(isinstance(results.get(f), list) and len(results[f]) == n
                                         for f in ("index", "label") + FIELDS + VECTORS):
        raise ValueError(f"{path}: not a gaps result (needs 'images' and a list of that length per figure)")
    return results


def save_results(path, results: dict) -> None:
    """Write a `test_set` result as JSON, atomically."""
    import json
    from pathlib import Path

    from .checkpoint import write_atomic

    Path(path).parent.mkdir(parents=True, exist_ok=True)
    write_atomic(Path(path), json.dumps(results, separators=(",", ":")).encode())


def summary(splits: list[GapSplit]) -> dict:
    """The headline figures of a set of splits: the mean and median of each gap (nats), and the share of images whose
    amortisation gap is the larger of the two."""
    out = {"images": len(splits)}
    for name in ("total", "approximation", "amortisation"):
        values = np.array([getattr(s, name) for s in splits], dtype=float)
        out[name] = {"mean": float(values.mean()), "median": float(np.median(values))}
    out["amortisation_larger"] = float(np.mean([s.amortisation > s.approximation for s in splits]))
    return out


def spread(splits: list[GapSplit], name: str) -> dict:
    """One gap over a set of splits: its mean, and its quartiles (the spread drawn around the mean)."""
    values = np.array([getattr(s, name) for s in splits], dtype=float)
    low, median, high = np.percentile(values, [25, 50, 75])
    return {"mean": float(values.mean()), "q25": float(low), "median": float(median), "q75": float(high)}


def refinement_gains(splits: list[GapSplit]) -> dict[int, dict]:
    """The remedy, K → {"gain": mean ELBO after K steps − ELBO(q_φ), "share": that gain over the mean amortisation gap
    (None when the gap is 0)} over `splits` (one split: that image's)."""
    amortisation = float(np.mean([s.amortisation for s in splits]))
    out = {}
    for k in sorted(splits[0].refined):
        gain = float(np.mean([s.refined[k] - s.elbo_amortised for s in splits]))
        out[k] = {"gain": gain, "share": gain / amortisation if amortisation > 0 else None}
    return out
