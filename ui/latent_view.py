"""The latent scatter shared by the Explore and Interpolate pages: coordinates, clicks, projections."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import streamlit as st

from ui import plots, store

PROJECTIONS = {"pca": "PCA", "tsne": "t-SNE"}


@dataclass
class ScatterView:
    coords: np.ndarray  # [N, 2] plotted coordinates
    means: np.ndarray  # [N, d] latent means
    labels: np.ndarray
    ranges: tuple
    axis_titles: tuple[str, str]
    projection: object | None  # vae.latent.Projection for d > 2

    @property
    def invertible(self) -> bool:
        """Whether a point of the plot maps back to a latent z (2-D, or a PCA plane)."""
        return self.projection is None or self.projection.components is not None

    def to_latent(self, x: float, y: float) -> np.ndarray | None:
        d = self.means.shape[1]
        if d == 1:
            return np.array([x], dtype=np.float32)
        if self.projection is None:
            return np.array([x, y], dtype=np.float32)
        if not self.invertible:
            return None
        return self.projection.to_latent([[x, y]])[0].astype(np.float32)

    def to_plot(self, z: np.ndarray) -> np.ndarray:
        """Latent points [M, d] → plotted coordinates [M, 2] (for paths and markers)."""
        z = np.atleast_2d(z)
        if z.shape[1] == 1:
            return np.stack([z[:, 0], np.full(len(z), np.nan)], 1)
        if self.projection is None:
            return z[:, :2]
        return self.projection.from_latent(z)


def scatter_view(info, key: str) -> ScatterView:
    """Test-set means of a model, projected to 2-D when d > 2 (PCA or t-SNE, chosen here; kept across pages
    and in the link as `<key>_projection`)."""
    means, labels = store.test_means(info)
    d = info.config.latent_dim
    projection = None
    if d == 1:
        jitter = np.random.default_rng(0).uniform(-0.3, 0.3, len(labels))
        coords, titles = np.stack([means[:, 0], labels + jitter], 1), ("z₁", "class (jittered)")
    elif d == 2:
        coords, titles = means, ("z₁", "z₂")
    else:
        method = st.radio(f"Projection of the {d}-D means", list(PROJECTIONS), format_func=PROJECTIONS.get,
                          horizontal=True, key=f"{key}_projection", bind="query-params", persist_state="session")
        projection = store.projection(info, method)
        coords = projection.coords
        titles = ("PC 1", "PC 2") if method == "pca" else ("t-SNE 1", "t-SNE 2")
    return ScatterView(coords, means, labels, plots.extent(coords), titles, projection)


def clip_to(z, limits) -> list[float]:
    """z clipped into the sliders' limits, as plain floats: a float32 z clipped against float64 limits rounds back
    to float32, which can land just above a slider's maximum (Streamlit then refuses the value)."""
    return [min(max(float(v), float(lo)), float(hi)) for v, (lo, hi) in zip(z, limits)]


def clicked(key: str):
    """In a chart's on_select callback: the point just clicked, as (kind, index, x, y), or None.
    kind 0: a data point (index into the means); 1: empty space (the invisible click grid)."""
    selection = (st.session_state.get(key) or {}).get("selection") or {}
    points = selection.get("points") or []
    if not points:
        return None
    point = points[0]
    custom = point.get("customdata")
    if isinstance(custom, dict):  # a typed array arrives as {"0": kind, "1": index}
        custom = [custom[k] for k in sorted(custom, key=int)]
    if not custom or len(custom) < 2:
        return None
    return int(custom[0]), int(custom[1]), float(point["x"]), float(point["y"])
