import numpy as np
import pytest
import torch

from vae.latent import (
    ellipse,
    encode_dataset,
    lerp,
    project,
    slerp,
)


def test_encode_dataset_in_batches_equals_one_pass(small_model):
    x = torch.rand(50, 784)
    mu, logvar = encode_dataset(small_model, x, batch_size=7)
    with torch.no_grad():
        mu1, logvar1 = small_model.encode(x)
    torch.testing.assert_close(mu, mu1)
    torch.testing.assert_close(logvar, logvar1)


def test_lerp_and_slerp_paths():
    z0, z1 = torch.tensor([1.0, 0.0]), torch.tensor([0.0, 1.0])
    path = lerp(z0, z1, 5)
    torch.testing.assert_close(path[0], z0), torch.testing.assert_close(path[-1], z1)
    torch.testing.assert_close(path[2], torch.tensor([0.5, 0.5]))
    arc = slerp(z0, z1, 5)
    torch.testing.assert_close(arc[0], z0), torch.testing.assert_close(arc[-1], z1)
    torch.testing.assert_close(arc.norm(dim=1), torch.ones(5))  # stays on the circle
    torch.testing.assert_close(arc[2], torch.tensor([2**-0.5, 2**-0.5]))
    torch.testing.assert_close(slerp(z0, 2 * z0, 3), lerp(z0, 2 * z0, 3))  # parallel: falls back to lerp


def test_pca_projection_matches_numpy_svd_and_inverts():
    rng = np.random.default_rng(0)
    points = rng.normal(size=(300, 5)) * np.array([5.0, 3.0, 0.1, 0.1, 0.1])
    proj = project(points, "pca")
    centred = points - points.mean(0)
    _, _, vt = np.linalg.svd(centred, full_matrices=False)
    expected = centred @ vt[:2].T
    np.testing.assert_allclose(np.abs(proj.coords), np.abs(expected), atol=1e-8)  # up to sign
    plane = np.array([[1.0, -2.0]])
    back = proj.to_latent(plane)
    np.testing.assert_allclose((back - points.mean(0)) @ proj.components.T, plane, atol=1e-10)


def test_tsne_projection_and_errors():
    points = np.random.default_rng(1).normal(size=(40, 4))
    proj = project(points, "tsne")
    assert proj.coords.shape == (40, 2)
    with pytest.raises(ValueError, match="cannot be inverted"):
        proj.to_latent([[0, 0]])
    with pytest.raises(ValueError, match="unknown projection"):
        project(points, "umap")
    with pytest.raises(ValueError, match="1-D"):
        project(points[:, :1])


@pytest.mark.parametrize("gap", [3e-4, 1.5e-4, 1e-6])
def test_slerp_between_nearly_opposite_codes_keeps_their_norm(gap):
    """π − Ω = 3e-4 gave a midpoint of norm 1.84 instead of 3 (arccos in float32); at 1.5e-4 it fell back to lerp
    through the origin (norm 0)."""
    import math

    for d in (2, 16):
        z0 = torch.zeros(d)
        z0[0] = 3.0
        z1 = torch.zeros(d)
        z1[0], z1[1] = 3.0 * math.cos(math.pi - gap), 3.0 * math.sin(math.pi - gap)
        path = slerp(z0, z1, 5)
        assert path.dtype == torch.float32
        torch.testing.assert_close(path[0], z0), torch.testing.assert_close(path[-1], z1)
        assert path.norm(dim=1).sub(3.0).abs().max() < 1e-3, path.norm(dim=1)


def test_qs_ellipse_on_the_pca_plane_holds_its_share_of_projected_samples():
    """Projection.gaussian and ellipse: N(μ, diag σ²) in 6-D seen on a PCA plane; of samples drawn in 6-D and
    projected, 1 − e^(−k²/2) fall inside the k-σ ellipse (39 % at 1σ, 86 % at 2σ)."""
    rng = np.random.default_rng(0)
    plane = project(rng.normal(size=(500, 6)) * np.arange(1, 7), "pca")
    mu, sigma = rng.normal(size=6), rng.uniform(0.1, 1.0, 6)
    centre, cov = plane.gaussian(mu, sigma)
    points = plane.from_latent(mu + sigma * rng.normal(size=(20_000, 6)))
    np.testing.assert_allclose(np.cov(points.T), cov, rtol=0.05, atol=0.01)
    np.testing.assert_allclose(points.mean(0), centre, atol=0.03)
    for k, share in ((1, 1 - np.exp(-0.5)), (2, 1 - np.exp(-2))):
        outline = ellipse(centre, cov, k, n=400)
        inside = _inside(points, outline)
        assert abs(inside - share) < 0.015, (k, inside, share)


def _inside(points: np.ndarray, polygon: np.ndarray) -> float:
    """The share of points inside a closed polygon (even–odd rule), computed without the ellipse's equation."""
    x, y = points[:, 0:1], points[:, 1:2]
    x0, y0 = polygon[:-1, 0], polygon[:-1, 1]
    x1, y1 = polygon[1:, 0], polygon[1:, 1]
    crosses = ((y0 > y) != (y1 > y)) & (x < (x1 - x0) * (y - y0) / (y1 - y0 + 1e-300) + x0)
    return float((crosses.sum(1) % 2 == 1).mean())


def test_the_extras_a_checkpoint_stores_hold_the_means_labels_and_a_tsne_map_beyond_2d():
    """(The CLI's evaluate --save-test-latents stores these; its test uses a 2-D model, so no t-SNE of 10,000 points.)"""
    from vae import VAE, VAEConfig, latent

    torch.manual_seed(0)
    images, labels = torch.rand(120, 784), torch.arange(120) % 10
    for d in (2, 3):
        model = VAE(VAEConfig(latent_dim=d, hidden=(16,)))
        extras = latent.test_latent_extras(model, images, labels)
        mu, _ = encode_dataset(model, images)
        torch.testing.assert_close(extras["test_mu"], mu.half())
        assert extras["test_labels"].dtype == torch.uint8 and extras["test_labels"].tolist() == labels.tolist()
        assert ("test_tsne" in extras) == (d > 2)
    assert extras["test_tsne"].shape == (120, 2) and extras["test_tsne"].dtype == torch.float16
    assert np.isfinite(extras["test_tsne"].float().numpy()).all() and extras["test_tsne"].float().std() > 0
