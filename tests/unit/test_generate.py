"""vae/generate.py against independent computations: the prior's moments, p(x|z)'s draws, the Monte-Carlo
reconstruction term against objective.elbo for the same ε, its spread against L, and traversals."""
import math

import numpy as np
import pytest
import torch

from vae import VAE, VAEConfig
from vae.generate import (
    dimensions_by_kl,
    estimate_spread,
    images_from_codes,
    monte_carlo_elbo,
    prior_codes,
    prior_radius,
    std_with_error,
    traversal,
)
from vae.objective import elbo, kl_to_standard_normal


@pytest.fixture(scope="module")
def model():
    torch.manual_seed(0)
    return VAE(VAEConfig(latent_dim=4, hidden=(32,), sigma_dec=0.3)).eval()


@pytest.mark.parametrize("temperature", [0.5, 1.0, 1.5])
def test_prior_codes_have_mean_zero_and_covariance_tau_squared_identity(temperature):
    z = prior_codes(40_000, 3, temperature, seed=1).double().numpy()
    assert np.abs(z.mean(0)).max() < 4 * temperature / math.sqrt(40_000)
    np.testing.assert_allclose(np.cov(z.T), temperature**2 * np.eye(3), atol=0.03 * temperature**2)
    assert torch.equal(prior_codes(5, 3, temperature, seed=1), prior_codes(5, 3, temperature, seed=1))  # the seed


def test_images_are_the_mean_or_a_draw_from_p_x_given_z(model):
    z = prior_codes(64, 4)
    mean = images_from_codes(model, z)
    torch.testing.assert_close(mean, torch.sigmoid(model.decoder(z)))
    drawn = images_from_codes(model, z, draw=True, seed=3)
    epsilon = torch.randn(mean.shape, generator=torch.Generator().manual_seed(3))
    torch.testing.assert_close(drawn, (mean + 0.3 * epsilon).clamp(0, 1))  # x = decode(z) + σ_dec·ε, clipped
    assert epsilon.std().item() == pytest.approx(1, rel=0.02) and drawn.min() >= 0 and drawn.max() <= 1
    assert not torch.equal(drawn, images_from_codes(model, z, draw=True, seed=4))
    bernoulli = VAE(VAEConfig(latent_dim=4, hidden=(32,), likelihood="bernoulli")).eval()
    draws = torch.stack([images_from_codes(bernoulli, z[:2], draw=True, seed=s) for s in range(400)])
    assert set(draws.unique().tolist()) <= {0.0, 1.0}
    torch.testing.assert_close(draws.mean(0), images_from_codes(bernoulli, z[:2]), atol=0.1, rtol=0)


def test_the_monte_carlo_mean_is_objective_elbos_reconstruction_for_the_same_eps(model):
    x = torch.rand(1, 784)
    eps = torch.randn(16, 4, generator=torch.Generator().manual_seed(5))
    estimate = monte_carlo_elbo(model, x, eps=eps)
    parts = elbo(model, x, samples=16, eps=eps[:, None, :])
    assert estimate.reconstruction == pytest.approx(parts.reconstruction.item(), rel=1e-5)
    assert estimate.kl == pytest.approx(parts.kl.item(), rel=1e-5)
    assert estimate.elbo == pytest.approx(parts.elbo.item(), rel=1e-5)
    mu, logvar = model.encode(x)
    np.testing.assert_allclose(estimate.z, (mu + eps * torch.exp(0.5 * logvar)).detach().numpy(), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(estimate.sigma, torch.exp(0.5 * logvar)[0].detach().numpy(), rtol=1e-5)
    assert estimate.kl == pytest.approx(kl_to_standard_normal(mu, logvar).item(), rel=1e-5)
    assert estimate.images.shape == (16, 784) and estimate.log_px_given_z.shape == (16,)


def test_prior_codes_lie_near_the_shell_of_radius_root_d_tau_not_at_the_centre():
    for d, tau in ((2, 1.0), (16, 0.8), (50, 1.0)):
        norms = prior_codes(20_000, d, tau, seed=3).norm(dim=1).double()
        radius = prior_radius(d, tau)
        assert (norms ** 2).mean().item() == pytest.approx(radius ** 2, rel=0.03)  # E‖z‖² = dτ²
        assert norms.mean().item() == pytest.approx(radius, rel=0.15)
        if d >= 16:
            assert (norms < 0.5 * radius).float().mean().item() < 0.005  # hardly a draw near the centre
    thin = prior_codes(20_000, 50, 1.0, seed=3).norm(dim=1)
    thick = prior_codes(20_000, 2, 1.0, seed=3).norm(dim=1)
    assert thin.std() / thin.mean() < 0.25 * thick.std() / thick.mean()  # thinner relative to its radius as d grows


def test_the_estimates_spread_falls_as_one_over_root_l(model):
    x = torch.rand(1, 784)
    spread = {size: value for size, (value, _) in estimate_spread(model, x, (1, 4, 64), repeats=400, seed=2).items()}
    assert spread[1] / spread[4] == pytest.approx(2, rel=0.2)
    assert spread[1] / spread[64] == pytest.approx(8, rel=0.2)


def test_a_standard_deviation_comes_with_its_bootstrap_error_and_a_heavy_tail_widens_it():
    rng = np.random.default_rng(0)
    normal = rng.normal(size=64)
    value, error = std_with_error(normal, seed=1)
    assert value == pytest.approx(np.std(normal, ddof=1))
    assert error == pytest.approx(value / np.sqrt(2 * 63), rel=0.35)  # the normal theory's standard error of s
    heavy = np.append(rng.normal(size=63), 25.0)  # one draw far in the tail, as log p(x|z) sometimes gives
    value_h, error_h = std_with_error(heavy, seed=1)
    assert error_h / value_h > 3 * error / value
    with pytest.raises(ValueError, match="at least 2"):
        std_with_error([1.0])


def test_traversal_moves_one_dimension_per_row_and_an_unused_dimension_changes_nothing(model):
    base = torch.tensor([0.3, -0.2, 0.5, 0.1])
    values = np.linspace(-3, 3, 5)
    with torch.no_grad():
        unused = VAE(model.config).eval()
        unused.load_state_dict(model.state_dict())
        unused.decoder[0].weight[:, 3] = 0  # the decoder ignores z4: an inactive dimension
    rows = traversal(unused, base, [1, 3], values)
    assert rows.shape == (2, 5, 784)
    for c, v in enumerate(values):
        z = base.clone()
        z[1] = float(v)
        torch.testing.assert_close(rows[0, c], unused.decode(z))
    assert (rows[0] - rows[0, :1]).abs().max() > 1e-3  # z2 changes the image
    torch.testing.assert_close(rows[1], unused.decode(base).expand(5, -1))  # z4 does not


def test_dimensions_are_ordered_by_kl_active_first():
    assert dimensions_by_kl([0.001, 3.2, 0.0, 7.5]) == [3, 1, 0, 2]


def test_traversal_rows_lead_with_the_largest_kl_and_show_three_inactive_dimensions():
    from vae.generate import traversal_rows

    kl = [0.5, 0.001, 3.0, 0.0, 0.009, 0.002, 0.01, 0.02]  # ≤ 0.01 nats: inactive (vae.collapse.ACTIVE_THRESHOLD)
    rows = traversal_rows(kl)
    assert rows.inactive == [6, 4, 5, 1, 3]  # by KL, largest first, 0.01 itself inactive
    assert rows.shown == [2, 0, 7, 6, 4, 5] and rows.hidden == [1, 3]
    assert traversal_rows([1.0, 2.0]).hidden == [] and traversal_rows([1.0, 2.0]).shown == [1, 0]


def test_an_images_kl_per_dimension_is_the_closed_form_at_its_encoding(small_model):
    from vae.generate import image_kl_per_dim

    x = torch.rand(784)
    with torch.no_grad():
        mu, logvar = small_model.encode(x[None])
    var = logvar.exp()[0]
    expected = 0.5 * (var + mu[0] ** 2 - 1 - torch.log(var))
    assert image_kl_per_dim(small_model, x) == pytest.approx(expected.tolist(), rel=1e-5, abs=1e-6)
