"""The true posterior p(z|x) of a 2-D latent model, by quadrature on a grid, beside q_φ(z|x).

For d = 2 the evidence is an integral we can do by brute force:
    log p(x) = log ∫ p_θ(x|z) p(z) dz ≈ log Σ_cells p_θ(x|z_c) p(z_c) · ΔA,
and the posterior is p(z|x) = p_θ(x|z) p(z) / p(x). Then the ELBO's gap is visible twice:
    log p(x) − ELBO(x) = KL(q_φ(z|x) ‖ p(z|x)),
the left side from the grid integral and a Monte-Carlo ELBO, the right side by quadrature of
q · (log q − log p(z|x)) over a second grid fitted to q. The evidence grid is fitted to where p(z|x)
lives (a coarse look over the prior's window, then fine windows around the posterior's mass) and
refined until halving its cells moves log p(x) by less than `EVIDENCE_TOLERANCE`, so that the narrow
posteriors of small σ_dec get as many cells as the broad ones. The figure's window holds both the
posterior and q's ±4σ box; where q is small in it, `q_window` holds the posterior again on q's own grid.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch

from .objective import elbo, iwae_log_px, log_likelihood, log_normal_diag, log_standard_normal

COARSE_SPAN = 6.0  # the first pass looks over [−6, 6]², where p(z) holds all but 1e-8 of its mass
MAX_COARSE_SPAN = 48.0  # …and is doubled, up to this, while the posterior's mass reaches its edge
MASS_CUTOFF = 18.0  # the fine window keeps cells whose log density is within this many nats of the peak
EVIDENCE_TOLERANCE = 0.01  # nats: the evidence grid is refined until halving its cells moves log p(x) by less
MAX_CELLS_PER_SIDE = 1601  # the finest evidence grid tried


@dataclass
class PosteriorGrid:
    """One digit's posterior on a grid: axes, log densities [ny, nx] (row i ↔ ys[i]) and the figures."""

    xs: np.ndarray  # the figure's window: the posterior's mass and q's ±4σ box
    ys: np.ndarray
    log_posterior: np.ndarray  # log p(z|x) = log p(x|z) + log p(z) − log p(x) on (xs, ys)
    mu: np.ndarray  # q's mean [2]
    sigma: np.ndarray  # q's standard deviations [2]
    log_px_grid: float  # log p(x) by quadrature on the evidence grid
    log_px_iwae: float  # importance-sampled log p(x), an independent estimate
    elbo: float  # Monte-Carlo ELBO (analytic KL)
    kl_q_posterior_grid: float  # KL(q ‖ p(z|x)) by quadrature
    posterior_mean: np.ndarray
    sigma_dec: float
    q_xs: np.ndarray | None = None  # q's own grid (±5σ around μ) and log p(z|x) on it: the zoom onto q
    q_ys: np.ndarray | None = None
    q_log_posterior: np.ndarray | None = None
    evidence_cells: int = 0  # cells per side of the evidence grid that met the tolerance
    evidence_change: float = 0.0  # |Δ log p(x)| of its last halving of the cells (< EVIDENCE_TOLERANCE)

    @property
    def elbo_grid(self) -> float:
        """The ELBO by quadrature, ∫ q log p(x, z)/q dz = log p(x) − KL(q ‖ p(z|x)) on the same grids: the value
        for which log p(x) = ELBO + KL holds to the last digit (the Monte-Carlo `elbo` has its own error)."""
        return self.log_px_grid - self.kl_q_posterior_grid

    @property
    def gap(self) -> float:
        """log p(x) − ELBO, from the grid integral and the Monte-Carlo ELBO."""
        return self.log_px_grid - self.elbo

    @property
    def cell_area(self) -> float:
        return float((self.xs[1] - self.xs[0]) * (self.ys[1] - self.ys[0]))


def latent_grid(x_range, y_range, n: int) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """(xs, ys, z [n·n, 2]) of an n×n grid; row i of the reshaped [n, n] holds ys[i], column j xs[j]."""
    xs = torch.linspace(*x_range, n, dtype=torch.float64)
    ys = torch.linspace(*y_range, n, dtype=torch.float64)
    gy, gx = torch.meshgrid(ys, xs, indexing="ij")
    return xs, ys, torch.stack([gx.reshape(-1), gy.reshape(-1)], -1)


@torch.no_grad()
def log_joints(model, x: torch.Tensor, z: torch.Tensor, sigmas, chunk: int = 512) -> torch.Tensor:
    """log p_θ(x|z) + log p(z) for one x ([D]) at every z ([M, 2]) and each σ_dec of `sigmas`, in float64: [S, M].
    Each z is decoded once for all σ_dec; `chunk` points at a time: a [chunk, D] float64 block stays in the CPU's
    caches (8192 at a time was three times slower)."""
    config = model.config
    x = x.double()
    out = []
    for start in range(0, z.shape[0], chunk):
        zc = z[start: start + chunk]
        logits = model.decode_logits(zc.to(model.device, torch.float32)).double()
        prior = log_standard_normal(zc)
        out.append(torch.stack([log_likelihood(x, logits, config.likelihood, s).cpu() + prior for s in sigmas]))
    return torch.cat(out, 1) if out else torch.empty(len(sigmas), 0, dtype=torch.float64)


def log_joint(model, x: torch.Tensor, z: torch.Tensor, sigma_dec: float | None = None) -> torch.Tensor:
    """log p_θ(x|z) + log p(z) at every z ([M, 2]) for one σ_dec (the model's when None): [M] (`log_joints`)."""
    return log_joints(model, x, z, [model.config.sigma_dec if sigma_dec is None else sigma_dec])[0]


def grid_log_evidence(log_joint_values: torch.Tensor, cell_area: float) -> float:
    """log p(x) ≈ log Σ_c exp(log p(x|z_c) + log p(z_c)) + log ΔA (a Riemann sum of the evidence integral)."""
    return float(torch.logsumexp(log_joint_values, 0) + math.log(cell_area))


def grid_kl(log_q: torch.Tensor, log_p: torch.Tensor, cell_area: float) -> float:
    """KL(q ‖ p) ≈ Σ_c q(z_c) (log q(z_c) − log p(z_c)) ΔA, with q renormalised on the grid."""
    log_q = log_q - (torch.logsumexp(log_q, 0) + math.log(cell_area))
    return float((torch.exp(log_q) * (log_q - log_p)).sum() * cell_area)


def _mass_window(xs, ys, log_density: torch.Tensor):
    """The box holding the cells within MASS_CUTOFF nats of the peak, padded by a cell on each side."""
    grid = log_density.reshape(len(ys), len(xs))
    keep = grid > grid.max() - MASS_CUTOFF
    cols, rows = keep.any(0).nonzero().squeeze(1), keep.any(1).nonzero().squeeze(1)
    step_x, step_y = float(xs[1] - xs[0]), float(ys[1] - ys[0])
    return ((float(xs[cols.min()]) - step_x, float(xs[cols.max()]) + step_x),
            (float(ys[rows.min()]) - step_y, float(ys[rows.max()]) + step_y))


def _with_q(window, mu, sigma, q_sigmas: float = 4.0):
    """`window` joined with q's ±`q_sigmas`σ box."""
    (x0, x1), (y0, y1) = window
    return ((min(x0, mu[0] - q_sigmas * sigma[0]), max(x1, mu[0] + q_sigmas * sigma[0])),
            (min(y0, mu[1] - q_sigmas * sigma[1]), max(y1, mu[1] + q_sigmas * sigma[1])))


def _area(window) -> float:
    (x0, x1), (y0, y1) = window
    return (x1 - x0) * (y1 - y0)


def coarse_grid(span: float = COARSE_SPAN):
    """The first look's grid over [−span, span]², 0.1 apart (121 cells per side over [−6, 6]², where p(z) holds all
    but 1e-8 of its mass)."""
    return latent_grid((-span, span), (-span, span), int(round(20 * span)) + 1)


def _reaches_edge(window, span: float) -> bool:
    """Whether a mass window (padded by a cell) reaches the edge of the coarse grid over [−span, span]²."""
    (x0, x1), (y0, y1) = window
    return min(x0, y0) < -span or max(x1, y1) > span


def _halved(model, x: torch.Tensor, sigma: float, window, cells: int, joint: torch.Tensor):
    """The grid over `window` with 2·cells − 1 points per side: every old point kept (its log joint reused from
    `joint`), one new between each pair (decoded). Returns (xs, ys, z, log joint)."""
    fine = 2 * cells - 1
    xs, ys, z = latent_grid(*window, fine)
    new = torch.ones(fine, fine, dtype=torch.bool)
    new[::2, ::2] = False
    out = torch.empty(fine, fine, dtype=torch.float64)
    out[::2, ::2] = joint.reshape(cells, cells)
    out[new] = log_joint(model, x, z[new.reshape(-1)], sigma)
    return xs, ys, z, out.reshape(-1)


def evidence_grid(model, x: torch.Tensor, sigma: float, tolerance: float = EVIDENCE_TOLERANCE, start: int = 101,
                  coarse_joint: torch.Tensor | None = None):
    """log p(x) by quadrature on a grid fitted to the posterior's mass and refined until it converges.

    A coarse look over [−6, 6]² (`coarse_grid`; its log joint may be passed in as `coarse_joint`), twice as wide
    while the posterior's mass reaches its edge (a sharp likelihood can outweigh the prior's fall far out: test #9 of
    mnist-2d-sigma0.1 has its posterior's mode at z₂ = −6.2, and the grid over [−6, 6]² missed it), then windows of
    `start` cells per side around the cells within MASS_CUTOFF nats of the peak, shrunk while they shrink; then the
    cells are halved until log p(x) moves by less than `tolerance` (the finer sum is kept). Returns (log p(x), xs,
    ys, z, log joint on z, cells per side, |Δ| of the last halving).
    """
    span = COARSE_SPAN
    xs, ys, z = coarse_grid(span)
    window = _mass_window(xs, ys, log_joint(model, x, z, sigma) if coarse_joint is None else coarse_joint)
    while _reaches_edge(window, span) and span < MAX_COARSE_SPAN:
        span *= 2
        xs, ys, z = coarse_grid(span)
        window = _mass_window(xs, ys, log_joint(model, x, z, sigma))
    for _ in range(4):  # shrink onto the posterior's mass
        xs, ys, z = latent_grid(*window, start)
        joint = log_joint(model, x, z, sigma)
        tighter = _mass_window(xs, ys, joint)
        if _area(tighter) > 0.5 * _area(window):
            break
        window = tighter
    cells, change = start, math.inf
    log_px = grid_log_evidence(joint, float((xs[1] - xs[0]) * (ys[1] - ys[0])))
    while change >= tolerance and 2 * cells - 1 <= MAX_CELLS_PER_SIDE:
        xs, ys, z, joint = _halved(model, x, sigma, window, cells, joint)
        cells = 2 * cells - 1
        fine = grid_log_evidence(joint, float((xs[1] - xs[0]) * (ys[1] - ys[0])))
        change, log_px = abs(fine - log_px), fine
    return log_px, xs, ys, z, joint, cells, change


@torch.no_grad()
def true_posterior(model, x: torch.Tensor, sigma_dec: float | None = None, n: int = 201, mc_samples: int = 2000,
                   iw_samples: int = 2000, seed: int = 0) -> PosteriorGrid:
    """p(z|x) on a grid fitted to this digit, q_φ(z|x), and log p(x), ELBO and KL(q ‖ p(z|x)).

    x: one example [D] (or [1, D]) in the model's data space. Only for 2-D latent models.
    """
    sigma = model.config.sigma_dec if sigma_dec is None else sigma_dec
    x, mu, std = _encoded(model, x)
    log_px, exs, eys, ez, ejoint, cells, change = evidence_grid(model, x[0], sigma)
    e_cell = float((exs[1] - exs[0]) * (eys[1] - eys[0]))
    posterior_mean = (torch.exp(ejoint - log_px)[:, None] * ez).sum(0) * e_cell
    # The figure: the posterior's mass and q's ±4σ box, at n cells per side.
    window = _with_q(_mass_window(exs, eys, ejoint), mu.numpy(), std.numpy())
    xs, ys, z = latent_grid(*window, n)
    log_post = log_joint(model, x[0], z, sigma) - log_px
    # KL(q ‖ p(z|x)) weighs by q: integrate it on a grid fitted to q (±5σ), with the evidence from above.
    qx, qy, zq, q_cell = q_grid(mu, std, n)
    q_log_post = log_joint(model, x[0], zq, sigma) - log_px
    kl_grid = grid_kl(log_normal_diag(zq, mu, 2 * torch.log(std)), q_log_post, q_cell)
    generator = torch.Generator(model.device).manual_seed(seed)
    mc_elbo = float(elbo(model, x, samples=mc_samples, sigma_dec=sigma, generator=generator).elbo[0])
    iwae = float(iwae_log_px(model, x, iw_samples, sigma, generator)[0])
    return PosteriorGrid(xs.numpy(), ys.numpy(), log_post.reshape(n, n).numpy(), mu.numpy(), std.numpy(), log_px,
                         iwae, mc_elbo, kl_grid, posterior_mean.numpy(), sigma, qx.numpy(), qy.numpy(),
                         q_log_post.reshape(n, n).numpy(), cells, change)


def _encoded(model, x: torch.Tensor):
    """(x as [1, D], q's μ [2], q's σ [2] in float64) for a 2-D latent model in eval mode."""
    if model.config.latent_dim != 2:
        raise ValueError(f"the grid posterior needs a 2-D latent space, this model has {model.config.latent_dim}")
    model.eval()
    x = x.reshape(1, -1).to(model.device, torch.float32)
    mu_t, logvar_t = model.encode(x)
    return x, mu_t[0].double().cpu(), torch.exp(0.5 * logvar_t[0]).double().cpu()


def q_grid(mu: torch.Tensor, std: torch.Tensor, n: int):
    """An n×n grid over q's ±5σ box, where KL(q ‖ ·) is integrated: (xs, ys, z, cell area)."""
    xs, ys, z = latent_grid(*[(float(m - 5 * s), float(m + 5 * s)) for m, s in zip(mu, std)], n)
    return xs, ys, z, float((xs[1] - xs[0]) * (ys[1] - ys[0]))


@torch.no_grad()
def evidence_and_gaps(model, x: torch.Tensor, sigmas, n: int = 101, start: int = 101) -> list[tuple[float, float]]:
    """(log p(x), KL(q_φ(z|x) ‖ p(z|x))) at each σ_dec of `sigmas`, by quadrature alone (no Monte Carlo): log p(x)
    from the converged evidence grid, the KL on an n×n grid over q's ±5σ box; their difference is the ELBO by the
    same quadrature, so log p(x) = ELBO + KL holds to the last digit. The grids that do not depend on σ_dec (the
    coarse look, q's box) are decoded once for all of them; `start` is the evidence grid's first cells per side
    (`evidence_grid`: refined until it converges, from wherever it starts)."""
    x, mu, std = _encoded(model, x)
    _, _, zq, q_cell = q_grid(mu, std, n)
    log_q = log_normal_diag(zq, mu, 2 * torch.log(std))
    q_joints = log_joints(model, x[0], zq, sigmas)
    coarse_joints = log_joints(model, x[0], coarse_grid()[2], sigmas)
    found = []
    for k, s in enumerate(sigmas):
        log_px = evidence_grid(model, x[0], s, start=start, coarse_joint=coarse_joints[k])[0]
        found.append((log_px, grid_kl(log_q, q_joints[k] - log_px, q_cell)))
    return found


def posterior_gaps(model, x: torch.Tensor, sigmas, n: int = 101) -> list[float]:
    """The ELBO's gap log p(x) − ELBO(x) = KL(q_φ(z|x) ‖ p(z|x)) at each σ_dec of `sigmas`, by quadrature alone
    (`evidence_and_gaps`)."""
    return [gap for _, gap in evidence_and_gaps(model, x, sigmas, n)]


def posterior_gap(model, x: torch.Tensor, sigma_dec: float, n: int = 101) -> float:
    """KL(q_φ(z|x) ‖ p(z|x)) = log p(x) − ELBO(x) at one σ_dec, by quadrature (`posterior_gaps`)."""
    return posterior_gaps(model, x, [sigma_dec], n)[0]


def smallest_gap(sigmas, gaps) -> tuple[float, bool]:
    """(the σ_dec of the smallest gap, whether the gap grows steadily on both sides of it) for gaps measured at
    increasing σ_dec values."""
    gaps = list(gaps)
    best = min(range(len(gaps)), key=gaps.__getitem__)
    steady = all(gaps[i] > gaps[i + 1] for i in range(best)) and all(
        gaps[i + 1] > gaps[i] for i in range(best, len(gaps) - 1))
    return float(sigmas[best]), steady
