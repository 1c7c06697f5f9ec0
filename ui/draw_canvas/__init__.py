"""A drawing canvas (components v2, assets inlined from this folder: nothing from a CDN).

Returns the drawing as a float array [56, 56] in [0, 1] (white ink = 1) after each stroke, or None
when the canvas is empty; `vae.preprocess.mnist_style` turns it into an MNIST-like 28×28 digit.
"""
from __future__ import annotations

import base64
from pathlib import Path

import numpy as np
import streamlit as st

HERE = Path(__file__).parent
_renderer = None


def _component():
    global _renderer
    if _renderer is None:
        _renderer = st.components.v2.component("vae_draw_canvas", js=(HERE / "canvas.js").read_text(),
                                               css=(HERE / "canvas.css").read_text())
    return _renderer


def decode_drawing(value) -> np.ndarray | None:
    """The component's value ({size, pixels: base64 uint8}) → [size, size] floats in [0, 1]; None if empty or malformed."""
    if not isinstance(value, dict):
        return None
    try:
        size = int(value["size"])
        pixels = np.frombuffer(base64.b64decode(value["pixels"], validate=True), dtype=np.uint8)
    except (KeyError, TypeError, ValueError):
        return None
    if not 8 <= size <= 512 or pixels.size != size * size:
        return None
    return pixels.reshape(size, size).astype(np.float32) / 255.0


def draw_canvas(key: str, clear_token: int = 0) -> np.ndarray | None:
    """Mount the canvas; the drawing so far as [56, 56] floats, or None."""
    result = _component()(data={"clear_token": clear_token}, key=key, default={"image": None},
                          on_image_change=lambda: None)
    return decode_drawing(result.image)
