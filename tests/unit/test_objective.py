"""Every equation in vae/objective.py against an independent computation."""
import math

import pytest
import torch
from torch.distributions import Bernoulli, Normal, kl_divergence

from vae import VAE, VAEConfig
from vae.objective import (
    bernoulli_log_likelihood,
    elbo,
    gaussian_log_likelihood,
    gaussian_log_normalizer,
    iwae_log_px,
    kl_gaussians,
    kl_per_dimension,
    kl_to_standard_normal,
    log_normal_diag,
    log_standard_normal,
)
from vae.units import bits_per_dim_8bit, bits_per_dim_binary

torch.manual_seed(0)


@pytest.mark.parametrize("sigma", [0.05, 0.3, 1.0, 2.5])
def test_gaussian_log_likelihood_matches_torch_normal(sigma):
    x, x_hat = torch.rand(16, 784, dtype=torch.float64), torch.rand(16, 784, dtype=torch.float64)
    expected = Normal(x_hat, sigma).log_prob(x).sum(-1)
    got = gaussian_log_likelihood(x, x_hat, sigma)
    assert got.shape == (16,)
    torch.testing.assert_close(got, expected)
    # the constant on its own is −(D/2)·log(2πσ²)
    assert gaussian_log_normalizer(784, sigma) == pytest.approx(Normal(0.0, sigma).log_prob(torch.tensor(0.0)).item() * 784)


def test_bernoulli_log_likelihood_matches_torch_bernoulli():
    logits = torch.randn(8, 784, dtype=torch.float64) * 3
    x = torch.bernoulli(torch.rand(8, 784, dtype=torch.float64))
    torch.testing.assert_close(bernoulli_log_likelihood(x, logits), Bernoulli(logits=logits).log_prob(x).sum(-1))


def test_kl_to_standard_normal_matches_torch_kl_divergence():
    mu, logvar = torch.randn(32, 20, dtype=torch.float64), torch.randn(32, 20, dtype=torch.float64)
    expected = kl_divergence(Normal(mu, torch.exp(0.5 * logvar)), Normal(0.0, 1.0)).sum(-1)
    torch.testing.assert_close(kl_to_standard_normal(mu, logvar), expected)
    torch.testing.assert_close(kl_per_dimension(mu, logvar).sum(-1), expected)
    assert kl_to_standard_normal(torch.zeros(1, 5), torch.zeros(1, 5)).item() == 0.0


def test_kl_gaussians_matches_torch_and_reduces_to_the_prior_case():
    mu0, lv0, mu1, lv1 = (torch.randn(10, 6, dtype=torch.float64) for _ in range(4))
    expected = kl_divergence(Normal(mu0, torch.exp(0.5 * lv0)), Normal(mu1, torch.exp(0.5 * lv1))).sum(-1)
    torch.testing.assert_close(kl_gaussians(mu0, lv0, mu1, lv1), expected)
    zeros = torch.zeros_like(mu0)
    torch.testing.assert_close(kl_gaussians(mu0, lv0, zeros, zeros), kl_to_standard_normal(mu0, lv0))


def test_kl_matches_a_monte_carlo_estimate():
    generator = torch.Generator().manual_seed(1)
    mu = torch.tensor([[0.5, -1.0, 2.0, 0.0]], dtype=torch.float64)
    logvar = torch.tensor([[-1.0, 0.5, -2.0, 0.3]], dtype=torch.float64)
    z = mu + torch.randn(200_000, 4, generator=generator, dtype=torch.float64) * torch.exp(0.5 * logvar)
    samples = log_normal_diag(z, mu, logvar) - log_standard_normal(z)  # log q(z) − log p(z)
    stderr = samples.std() / math.sqrt(len(samples))
    assert abs(samples.mean() - kl_to_standard_normal(mu, logvar)[0]) < 4 * stderr


def test_log_normal_densities_match_torch():
    z, mu, logvar = (torch.randn(7, 5, dtype=torch.float64) for _ in range(3))
    torch.testing.assert_close(log_normal_diag(z, mu, logvar), Normal(mu, torch.exp(0.5 * logvar)).log_prob(z).sum(-1))
    torch.testing.assert_close(log_standard_normal(z), Normal(0.0, 1.0).log_prob(z).sum(-1))


def tutorial_kl(mu, sigma2, d):
    """The formula as the tutorial prints it, for an isotropic q = N(μ, σ² I): ½((σ²)^d + μᵀμ − d log σ²), by
    vae.objective.printed_kl (checked here against the printed form written out)."""
    from vae.objective import printed_kl

    logvar = torch.full_like(mu, math.log(sigma2))
    by_hand = 0.5 * (sigma2 ** d + (mu ** 2).sum(-1) - d * math.log(sigma2))
    torch.testing.assert_close(printed_kl(mu, logvar), by_hand, rtol=1e-5, atol=1e-6)
    return by_hand


@pytest.mark.parametrize("sigma2", [0.25, 1.0, 2.0])
def test_the_tutorial_kl_formula_is_wrong_and_ours_is_right(sigma2):
    d = 4
    mu = torch.tensor([[0.3, -0.2, 1.0, 0.0]], dtype=torch.float64)
    logvar = torch.full_like(mu, math.log(sigma2))
    truth = kl_divergence(Normal(mu, math.sqrt(sigma2)), Normal(0.0, 1.0)).sum(-1)
    torch.testing.assert_close(kl_to_standard_normal(mu, logvar), truth)
    assert abs(tutorial_kl(mu, sigma2, d) - truth).item() > 0.1
    # at q = p(z) the KL is 0; the printed formula gives ½ (the missing −d, and 1^d in place of Σ σᵢ² = d)
    assert tutorial_kl(torch.zeros(1, d), 1.0, d).item() == 0.5


def test_elbo_parts_match_torch_distributions_for_fixed_noise(small_model):
    x = torch.rand(5, 784)
    eps = torch.randn(3, 5, 3)
    parts = elbo(small_model, x, samples=3, eps=eps)
    mu, logvar = small_model.encode(x)
    z = mu + eps * torch.exp(0.5 * logvar)
    x_hat = small_model.decode(z)
    recon = Normal(x_hat, 0.5).log_prob(x).sum(-1).mean(0)
    kl = kl_divergence(Normal(mu, torch.exp(0.5 * logvar)), Normal(0.0, 1.0)).sum(-1)
    torch.testing.assert_close(parts.reconstruction, recon, rtol=1e-5, atol=1e-3)
    torch.testing.assert_close(parts.kl, kl)
    torch.testing.assert_close(parts.elbo, recon - kl, rtol=1e-5, atol=1e-3)
    torch.testing.assert_close(parts.reconstruction, parts.squared_error + parts.constant)
    assert torch.allclose(parts.constant, torch.tensor(-0.5 * 784 * math.log(2 * math.pi * 0.25)))
    assert parts.kl_per_dim.shape == (5, 3)


def test_elbo_with_another_sigma_changes_only_the_reconstruction(small_model):
    x, eps = torch.rand(4, 784), torch.randn(1, 4, 3)
    a, b = elbo(small_model, x, eps=eps), elbo(small_model, x, eps=eps, sigma_dec=0.1)
    torch.testing.assert_close(a.kl, b.kl)
    torch.testing.assert_close(b.squared_error, a.squared_error * (0.5 / 0.1) ** 2)


def test_elbo_monte_carlo_estimate_matches_the_log_weight_average(small_model):
    """E_q[log p(x|z)] − KL (analytic KL) equals E_q[log p(x|z) + log p(z) − log q(z|x)] (MC KL)."""
    x = torch.rand(2, 784, dtype=torch.float64)
    model = small_model.double()
    generator = torch.Generator().manual_seed(3)
    with torch.no_grad():
        analytic = elbo(model, x, samples=20_000, generator=generator).elbo
        mu, logvar = model.encode(x)
        z = mu + torch.randn(20_000, *mu.shape, generator=generator, dtype=torch.float64) * torch.exp(0.5 * logvar)
        log_w = (Normal(model.decode(z), 0.5).log_prob(x).sum(-1) + Normal(0.0, 1.0).log_prob(z).sum(-1)
                 - Normal(mu, torch.exp(0.5 * logvar)).log_prob(z).sum(-1))
    stderr = log_w.std(0) / math.sqrt(log_w.shape[0])
    assert (abs(log_w.mean(0) - analytic) < 5 * stderr + 1e-6).all()


@pytest.mark.slow
@pytest.mark.parametrize("likelihood", ["gaussian", "bernoulli"])
def test_iwae_converges_to_the_grid_integral_of_log_px(likelihood):
    """For a 2-D latent, log p(x) = log ∫ p(x|z) p(z) dz by quadrature; IWAE with large K must meet it."""
    torch.manual_seed(2)
    model = VAE(VAEConfig(latent_dim=2, hidden=(16,), sigma_dec=1.0, likelihood=likelihood)).double().eval()
    x = torch.rand(3, 784, dtype=torch.float64)
    if likelihood == "bernoulli":
        x = torch.bernoulli(x)
    axis = torch.linspace(-7, 7, 281, dtype=torch.float64)
    z = torch.stack(torch.meshgrid(axis, axis, indexing="ij"), -1).reshape(-1, 2)
    cell = (axis[1] - axis[0]) ** 2
    def log_lik(logits):  # [points, 1, D] → [points, 3]
        if likelihood == "gaussian":
            return Normal(torch.sigmoid(logits), 1.0).log_prob(x).sum(-1)
        return Bernoulli(logits=logits).log_prob(x).sum(-1)

    with torch.no_grad():  # 1,024 grid points at a time: the whole [78,961, 3, 784] grid was four times slower
        log_lik = torch.cat([log_lik(model.decode_logits(chunk)[:, None, :]) for chunk in z.split(1024)])
        log_joint = log_lik + Normal(0.0, 1.0).log_prob(z).sum(-1)[:, None]
        grid_log_px = torch.logsumexp(log_joint, 0) + torch.log(cell)
        iwae = iwae_log_px(model, x, samples=20_000, generator=torch.Generator().manual_seed(0))
        one_sample = elbo(model, x, samples=2000, generator=torch.Generator().manual_seed(0)).elbo
    torch.testing.assert_close(iwae, grid_log_px, rtol=0, atol=0.05)
    assert (one_sample <= grid_log_px + 0.05).all()  # the ELBO is a lower bound


def test_iwae_with_one_sample_is_an_unbiased_elbo_estimate(small_model):
    x = torch.rand(3, 784, dtype=torch.float64)
    model = small_model.double()
    with torch.no_grad():
        k1 = torch.stack([iwae_log_px(model, x, 1, generator=torch.Generator().manual_seed(s)) for s in range(2000)])
        analytic = elbo(model, x, samples=5000, generator=torch.Generator().manual_seed(9)).elbo
    assert (abs(k1.mean(0) - analytic) < 5 * k1.std(0) / math.sqrt(2000) + 1e-3).all()


def test_bits_per_dim_of_8_bit_images_is_minus_log2_of_each_grey_levels_bin():
    # Independent: a 1-D Gaussian density on [0, 1]; the probability of the 1/256-wide bin holding x, by its CDF.
    normal = torch.distributions.Normal(torch.tensor(0.5, dtype=torch.float64), 0.1)
    for level in (60, 128, 170):
        low, high = torch.tensor(level / 256, dtype=torch.float64), torch.tensor((level + 1) / 256, dtype=torch.float64)
        bin_bits = -math.log2(normal.cdf(high) - normal.cdf(low))
        density_at_centre = normal.log_prob((low + high) / 2).item()
        assert bits_per_dim_8bit(density_at_centre, 1) == pytest.approx(bin_bits, abs=1e-3)  # flat across a bin
    assert bits_per_dim_8bit(0.0, 784) == pytest.approx(8.0)  # the uniform density: 8 bits for 256 levels
    assert bits_per_dim_8bit(46.5, 784) == pytest.approx(7.914, abs=1e-3)  # the figure: lower is better
    torch.testing.assert_close(bits_per_dim_8bit(torch.tensor([0.0, -784 * math.log(2)]), 784),
                               torch.tensor([8.0, 9.0]))


def test_bits_per_dim_of_binary_images():
    assert bits_per_dim_binary(784 * math.log(0.5), 784) == pytest.approx(1.0)  # a fair coin per pixel
    assert bits_per_dim_binary(-86.76, 784) == pytest.approx(0.1597, abs=1e-4)


def test_the_elbo_pages_bits_are_the_same_terms_as_costs_adding_up_to_the_8_bit_bound():
    from vae.decomposition import sigma_sweep

    model = VAE(VAEConfig(latent_dim=2, hidden=(32,)))
    x = torch.rand(5, 784)
    sweep = sigma_sweep(model, x, [0.1, 0.3, 1.0], samples=4)
    nats, bits = sweep.in_nats(), sweep.in_bits()
    per_bit = 784 * math.log(2)
    parts = list(bits.parts.values())
    # costs: −(log-likelihood terms) / (D ln 2); the 8 bits a pixel of the 256 bins join the constant
    torch.testing.assert_close(torch.tensor(parts[0]), torch.tensor(-sweep.squared_error / per_bit))
    torch.testing.assert_close(torch.tensor(parts[1]), torch.tensor(-sweep.constant / per_bit + 8))
    torch.testing.assert_close(torch.tensor(bits.kl), torch.tensor(sweep.kl / per_bit))
    torch.testing.assert_close(torch.tensor(parts[0] + parts[1] + parts[2]), torch.tensor(parts[3]))
    torch.testing.assert_close(torch.tensor(bits.total), torch.tensor(8 - nats.total / per_bit))
    torch.testing.assert_close(torch.tensor(nats.reconstruction - nats.kl), torch.tensor(nats.total))
