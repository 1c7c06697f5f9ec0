"""The latent space: encode a dataset, decode a grid, interpolate, project to 2-D."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch


@torch.no_grad()
def encode_dataset(model, data: torch.Tensor, batch_size: int = 2048) -> tuple[torch.Tensor, torch.Tensor]:
    """(μ, log σ²) of q_φ(z|x) for every row of `data` ([N, D]), on the CPU."""
    model.eval()
    mus, logvars = [], []
    for start in range(0, data.shape[0], batch_size):
        mu, logvar = model.encode(data[start: start + batch_size].to(model.device))
        mus.append(mu.cpu())
        logvars.append(logvar.cpu())
    return torch.cat(mus), torch.cat(logvars)


@torch.no_grad()
def decode(model, z: torch.Tensor) -> torch.Tensor:
    """Mean images for latent points z [N, d]: [N, *image_shape] in [0, 1], on the CPU."""
    model.eval()
    z = torch.as_tensor(z, dtype=torch.float32, device=model.device)
    return model.decode(z).cpu().reshape(-1, *model.config.image_shape)


def lerp(z0: torch.Tensor, z1: torch.Tensor, steps: int) -> torch.Tensor:
    """Linear path z(t) = (1 − t)·z₀ + t·z₁ for t evenly spaced in [0, 1]: [steps, d]."""
    t = torch.linspace(0, 1, steps)[:, None]
    return (1 - t) * z0[None] + t * z1[None]


def slerp(z0: torch.Tensor, z1: torch.Tensor, steps: int) -> torch.Tensor:
    """Spherical path z(t) = sin((1 − t)Ω)/sin Ω · z₀ + sin(tΩ)/sin Ω · z₁, cos Ω = z₀·z₁ / (‖z₀‖‖z₁‖).

    Keeps the path at a norm typical of the prior (White, 2016). Ω = 2·atan2(‖u₀ − u₁‖, ‖u₀ + u₁‖) for the unit
    vectors u (accurate near 0 and near π, where arccos of the cosine loses all its digits in float32), and
    the path is computed in float64. Only where no plane is defined (z₀ ∥ z₁, sin Ω < 1e-12) it is lerp.
    """
    a, b = z0.double(), z1.double()
    u0, u1 = a / a.norm().clamp_min(1e-300), b / b.norm().clamp_min(1e-300)
    omega = 2 * torch.atan2((u0 - u1).norm(), (u0 + u1).norm())
    if torch.sin(omega) < 1e-12:
        return lerp(z0, z1, steps)
    t = torch.linspace(0, 1, steps, dtype=torch.float64)[:, None]
    path = (torch.sin((1 - t) * omega) * a[None] + torch.sin(t * omega) * b[None]) / torch.sin(omega)
    return path.to(z0.dtype)


@dataclass
class Projection:
    """2-D coordinates of latent points; a linear projection (PCA) can map a plane point back to z."""

    coords: np.ndarray  # [N, 2]
    method: str
    mean: np.ndarray | None = None  # [d]
    components: np.ndarray | None = None  # [2, d]

    def from_latent(self, z) -> np.ndarray:
        """coords = (z − mean) · componentsᵀ (PCA only): latent points [N, d] onto the plane."""
        if self.components is None:
            raise ValueError(f"new points cannot be placed on a {self.method} projection; use PCA")
        return (np.asarray(z, dtype=np.float64) - self.mean) @ self.components.T

    def to_latent(self, coords) -> np.ndarray:
        """z = mean + coords · components (PCA only): the latent point on the projection plane."""
        if self.components is None:
            raise ValueError(f"a {self.method} projection cannot be inverted; use PCA")
        return self.mean + np.asarray(coords, dtype=np.float64) @ self.components

    def gaussian(self, mu, sigma) -> tuple[np.ndarray, np.ndarray]:
        """N(μ, diag σ²) seen on the plane (PCA only): mean (μ − mean)·Cᵀ and covariance C·diag(σ²)·Cᵀ."""
        components = self.components
        if components is None:
            raise ValueError(f"a {self.method} projection has no image of a Gaussian; use PCA")
        sigma = np.asarray(sigma, dtype=np.float64)
        return self.from_latent(np.asarray(mu)[None])[0], (components * sigma**2) @ components.T


def ellipse(mean, cov, k: float, n: int = 90) -> np.ndarray:
    """The k-σ contour of a 2-D Gaussian N(mean, cov), [n, 2]: mean + k·L·(cos t, sin t) with L·Lᵀ = cov."""
    t = np.linspace(0, 2 * np.pi, n)
    circle = np.stack([np.cos(t), np.sin(t)], 1)
    return np.asarray(mean, dtype=np.float64) + k * circle @ np.linalg.cholesky(np.asarray(cov, dtype=np.float64)).T


def project(points, method: str = "pca", seed: int = 0) -> Projection:
    """Project latent points [N, d] to 2-D with PCA or t-SNE (scikit-learn, imported here, lazily)."""
    points = np.asarray(points, dtype=np.float64)
    if points.ndim != 2 or points.shape[0] < 2:
        raise ValueError(f"need at least two points of shape [N, d], got {list(points.shape)}")
    if points.shape[1] == 1:
        raise ValueError("a 1-D latent space has no 2-D projection")
    if method == "pca":
        from sklearn.decomposition import PCA

        pca = PCA(n_components=2, random_state=seed).fit(points)
        return Projection(pca.transform(points), "pca", pca.mean_, pca.components_)
    if method == "tsne":
        from sklearn.manifold import TSNE

        perplexity = min(30.0, (points.shape[0] - 1) / 3)
        coords = TSNE(n_components=2, perplexity=perplexity, init="pca", random_state=seed).fit_transform(points)
        return Projection(coords, "tsne")
    raise ValueError(f"unknown projection {method!r}; use 'pca' or 'tsne'")


def test_latent_extras(model, images: torch.Tensor, labels: torch.Tensor, tsne: bool | None = None) -> dict:
    """What a checkpoint stores so the app draws its scatter at once, offline:
    test_mu (float16 [N, d]), test_labels (uint8 [N]) and, for d > 2, test_tsne (float16 [N, 2]).
    """
    mu, _ = encode_dataset(model, images)
    extras = {"test_mu": mu.half(), "test_labels": labels.to(torch.uint8)}
    if tsne if tsne is not None else model.config.latent_dim > 2:
        extras["test_tsne"] = torch.from_numpy(project(mu.numpy(), "tsne").coords).half()
    return extras
