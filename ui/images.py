"""Tensors and arrays as pictures Streamlit can show."""
from __future__ import annotations

import numpy as np
import streamlit as st


def to_uint8(image) -> np.ndarray:
    """[H, W] floats in [0, 1] (tensor or array) → uint8 array."""
    array = image.detach().cpu().numpy() if hasattr(image, "detach") else np.asarray(image)
    return (np.clip(array, 0.0, 1.0) * 255).round().astype(np.uint8)


def strip(images, pad: int = 2) -> np.ndarray:
    """[N, H, W] → one row [H, N·(W+pad)−pad] as uint8, white gaps."""
    images = [to_uint8(im) for im in images]
    h = images[0].shape[0]
    gap = np.full((h, pad), 255, dtype=np.uint8)
    parts = []
    for i, im in enumerate(images):
        parts.extend([im] if i == 0 else [gap, im])
    return np.concatenate(parts, axis=1)


def enlarge(image: np.ndarray, factor: int = 4) -> np.ndarray:
    """Nearest-neighbour upscaling, so small digits stay crisp in the browser."""
    return np.kron(image, np.ones((factor, factor), dtype=image.dtype))


def png_bytes(image: np.ndarray) -> bytes:
    """A uint8 [H, W] image as PNG bytes."""
    import io

    from PIL import Image

    buffer = io.BytesIO()
    Image.fromarray(np.asarray(image, dtype=np.uint8)).save(buffer, format="PNG")
    return buffer.getvalue()


def data_uri(image: np.ndarray) -> str:
    """A uint8 [H, W] image as a PNG data URI. st.image shows it as it is: no media file that a fragment's next
    render deletes while the browser still fetches it ("Image source error")."""
    import base64

    return "data:image/png;base64," + base64.b64encode(png_bytes(image)).decode()


def show(picture: np.ndarray, alt: str, *, caption: str | None = None, container=st, **kwargs):
    """st.image of a uint8 [H, W] picture (as a data URI, see data_uri) with `alt` as its text alternative (WCAG
    1.1.1): what the picture shows ("test #3, a 5, beside its reconstruction"), required and not empty; the caption,
    if any, is shown under it as before. Other keywords go to st.image (width, …)."""
    if not alt or not alt.strip():
        raise ValueError(f"the picture captioned {caption!r} needs a text alternative (alt)")
    return container.image(data_uri(picture), caption=caption, alt=alt, **kwargs)
