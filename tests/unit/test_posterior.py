"""The true posterior on a grid: evidence, KL(q ‖ p(z|x)) and the identity log p(x) = ELBO + KL."""
import math

import pytest
import torch
from torch.distributions import Normal

from tests.support import ROOT
from vae import VAE, VAEConfig, checkpoint, posterior
from vae.objective import kl_gaussians
from vae.posterior import evidence_grid, grid_kl, latent_grid, posterior_gaps, true_posterior

# Stated tolerances. Where q is a good proposal, IWAE with K = 5,000 meets the grid's log p(x) within
# 0.1 nats. The gap log p(x) − ELBO and the quadrature of KL(q ‖ p(z|x)) agree within 0.15 nats + 2 % of the
# gap (Monte-Carlo error of the ELBO with L = 5,000, and the grid's resolution).
IWAE_TOLERANCE = 0.1


@pytest.fixture(scope="module")
def digits(mnist_test):
    return mnist_test.images[:40].flatten(1).float() / 255


def shipped(name):
    return checkpoint.load(ROOT / "checkpoints" / f"{name}.safetensors").model


def test_grid_kl_matches_the_closed_form_between_gaussians():
    mu0, logvar0 = torch.tensor([0.3, -0.5], dtype=torch.float64), torch.tensor([-1.0, 0.4], dtype=torch.float64)
    mu1, logvar1 = torch.tensor([-0.2, 0.1], dtype=torch.float64), torch.tensor([0.2, -0.3], dtype=torch.float64)
    _, _, z = latent_grid((-10, 10), (-10, 10), 801)
    cell = (20 / 800) ** 2
    log_q = Normal(mu0, torch.exp(0.5 * logvar0)).log_prob(z).sum(-1)
    log_p = Normal(mu1, torch.exp(0.5 * logvar1)).log_prob(z).sum(-1)
    assert grid_kl(log_q, log_p, cell) == pytest.approx(float(kl_gaussians(mu0, logvar0, mu1, logvar1)), abs=1e-4)


@pytest.mark.slow
def test_grid_evidence_matches_an_independent_quadrature():
    """A plain uniform grid over [−7, 7]² with torch.distributions, against the fitted two-pass grid."""
    torch.manual_seed(4)
    model = VAE(VAEConfig(latent_dim=2, hidden=(16,), sigma_dec=0.7)).eval()
    x = torch.rand(784)
    axis = torch.linspace(-7, 7, 401, dtype=torch.float64)
    z = torch.stack(torch.meshgrid(axis, axis, indexing="ij"), -1).reshape(-1, 2)
    with torch.no_grad():
        log_joint = torch.cat([Normal(model.decode(chunk.float()).double(), 0.7).log_prob(x.double()).sum(-1)
                               + Normal(0.0, 1.0).log_prob(chunk).sum(-1) for chunk in z.split(512)])
    reference = float(torch.logsumexp(log_joint, 0) + 2 * math.log(14 / 400))
    post = true_posterior(model, x, iw_samples=200, mc_samples=200)
    assert post.log_px_grid == pytest.approx(reference, abs=1e-3)
    assert abs(post.log_posterior).max() < math.inf
    # the posterior drawn on the figure's grid is normalised by the evidence of the (finer) evidence grid
    assert float(torch.logsumexp(torch.as_tensor(post.log_posterior).flatten(), 0)) + math.log(post.cell_area) == \
        pytest.approx(0.0, abs=1e-4)


@pytest.mark.parametrize("index", [0, 3, 11])
def test_grid_log_px_agrees_with_iwae_where_q_is_good(digits, index):
    model = shipped("mnist-2d-sigma1.0")
    post = true_posterior(model, digits[index], iw_samples=5000, mc_samples=500)
    assert post.log_px_iwae == pytest.approx(post.log_px_grid, abs=IWAE_TOLERANCE)


@pytest.mark.slow
@pytest.mark.parametrize("name,sigma", [("mnist-2d-sigma0.3", None), ("mnist-2d-sigma0.3", 0.15),
                                        ("mnist-2d-sigma0.1", None), ("mnist-2d-sigma1.0", 1.5)])
def test_elbo_plus_kl_to_the_true_posterior_is_log_px(digits, name, sigma):
    model = shipped(name)
    for index in (0, 7):
        post = true_posterior(model, digits[index], sigma_dec=sigma, mc_samples=5000, iw_samples=100)
        assert post.gap > 0  # the ELBO is below log p(x)
        assert post.elbo + post.kl_q_posterior_grid == pytest.approx(post.log_px_grid,
                                                                    abs=0.15 + 0.02 * post.gap)


@pytest.mark.slow
def test_a_smaller_sigma_sharpens_the_posterior_and_widens_the_gap(digits):
    model = shipped("mnist-2d-sigma0.3")
    wide, sharp = (true_posterior(model, digits[1], sigma_dec=s, mc_samples=500, iw_samples=100) for s in (1.0, 0.1))
    assert (sharp.xs[-1] - sharp.xs[0]) < (wide.xs[-1] - wide.xs[0])
    assert sharp.gap > wide.gap


@pytest.mark.slow
@pytest.mark.parametrize("index, sigma, converged", [(1, 0.03, -28076.288), (1, 0.01, -267942.075)])
def test_the_evidence_grid_converges_at_small_sigma_where_q_is_far_wider_than_the_posterior(digits, index, sigma,
                                                                                           converged):
    """Where q's ±4σ box was part of the evidence window, the posterior got few cells: −28075.924 at σ = 0.03
    instead of the converged −28076.288. The reference here is an independent sum on a fixed grid of 401×401 cells
    over the posterior's mass (found from the model's own decode, not from vae.posterior's windows)."""
    model = shipped("mnist-2d-sigma0.3")
    post = true_posterior(model, digits[index], sigma_dec=sigma, mc_samples=100, iw_samples=10)
    assert post.evidence_change < 0.01 and post.evidence_cells >= 201
    # Independent: a fixed 401×401 grid over twice the box where the figure's log p(z|x) is within 18 nats of its peak.
    mass = torch.as_tensor(post.log_posterior) > torch.as_tensor(post.log_posterior).max() - 18
    rows, cols = mass.any(1).nonzero().squeeze(1), mass.any(0).nonzero().squeeze(1)
    x0, x1 = post.xs[int(cols.min())], post.xs[int(cols.max())]
    y0, y1 = post.ys[int(rows.min())], post.ys[int(rows.max())]
    pad_x, pad_y = (x1 - x0) * 0.5 + 1e-3, (y1 - y0) * 0.5 + 1e-3
    xs = torch.linspace(x0 - pad_x, x1 + pad_x, 401, dtype=torch.float64)
    ys = torch.linspace(y0 - pad_y, y1 + pad_y, 401, dtype=torch.float64)
    z = torch.stack(torch.meshgrid(xs, ys, indexing="ij"), -1).reshape(-1, 2)
    with torch.no_grad():
        log_joint = torch.cat([Normal(model.decode(chunk.float()).double(), sigma).log_prob(digits[index].double()).sum(-1)
                               + Normal(0.0, 1.0).log_prob(chunk).sum(-1) for chunk in z.split(512)])
    reference = float(torch.logsumexp(log_joint, 0) + math.log(float((xs[1] - xs[0]) * (ys[1] - ys[0]))))
    assert reference == pytest.approx(converged, abs=0.01)
    assert post.log_px_grid == pytest.approx(reference, abs=0.01)


def independent_log_joint(model, x, z, sigma):
    """log N(x; sigmoid(logits(z)), σ²I) + log N(z; 0, I) with torch.distributions, 512 points at a time."""
    with torch.no_grad():
        means = (torch.sigmoid(model.decode_logits(chunk.float()).double()) for chunk in z.split(512))
        return torch.cat([Normal(mean, sigma).log_prob(x.double()).sum(-1) + Normal(0.0, 1.0).log_prob(chunk).sum(-1)
                          for mean, chunk in zip(means, z.split(512))])


def test_each_point_of_the_refined_evidence_grid_holds_its_own_log_joint(monkeypatch):
    """Halving the cells keeps the old points and reuses their values: each must land on its own point."""
    monkeypatch.setattr(posterior, "MAX_CELLS_PER_SIDE", 161)
    torch.manual_seed(5)
    model = VAE(VAEConfig(latent_dim=2, hidden=(16,), sigma_dec=0.5)).eval()
    x = torch.rand(784)
    log_px, xs, ys, z, joint, cells, _ = evidence_grid(model, x, 0.5, tolerance=0.0, start=21)
    assert cells == 161  # three halvings, none stopped by the tolerance: 21 → 41 → 81 → 161
    assert torch.allclose(joint, independent_log_joint(model, x, z, 0.5), rtol=0, atol=1e-6)
    cell = float((xs[1] - xs[0]) * (ys[1] - ys[0]))
    assert log_px == pytest.approx(float(torch.logsumexp(joint, 0)) + math.log(cell))


def test_the_gaps_at_several_sigmas_decode_the_grids_that_do_not_depend_on_sigma_once(digits):
    """Together or one σ_dec at a time, the same gaps; together, the coarse look (121²) and q's box (101²) are
    decoded once, not once per σ_dec."""
    model = shipped("mnist-2d-sigma0.3")
    decoded = []
    decode_logits = model.decode_logits
    model.decode_logits = lambda z: decoded.append(len(z)) or decode_logits(z)
    sigmas = [0.2, 0.3, 1.0]
    alone = []
    for s in sigmas:
        alone.append(posterior_gaps(model, digits[0], [s])[0])
    points_alone = sum(decoded)
    decoded.clear()
    assert posterior_gaps(model, digits[0], sigmas) == alone
    assert sum(decoded) == points_alone - (len(sigmas) - 1) * (121 ** 2 + 101 ** 2)
    # and the gap is the KL by quadrature that true_posterior computes on q's box of the same size
    assert alone[1] == pytest.approx(true_posterior(model, digits[0], 0.3, n=101, mc_samples=10, iw_samples=10)
                                     .kl_q_posterior_grid, abs=1e-12)


def test_only_two_dimensional_models():
    with pytest.raises(ValueError, match="2-D latent"):
        true_posterior(VAE(VAEConfig(latent_dim=3, hidden=(8,))), torch.rand(784))
