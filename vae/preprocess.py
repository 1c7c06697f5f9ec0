"""Make a drawing look like an MNIST digit before it is encoded.

MNIST's digits were size-normalised to fit a 20×20 box (aspect ratio kept, anti-aliased), then
placed in a 28×28 field by their centre of mass (LeCun et al.): measured on the 60,000 training
digits it sits at (row, column) = (14.00, 14.01) ± 0.29 — not at the field's middle, 13.5 — so a
drawing is placed there too (MNIST_CENTRE; tests/unit/test_draw.py measures it again). A digit
drawn large and off-centre on a canvas is far from anything the encoder has seen until it gets
the same treatment.
"""
from __future__ import annotations

import numpy as np

BOX = 20
FIELD = 28
MNIST_CENTRE = (14.00, 14.01)  # mean centre of mass of MNIST's training digits, (row, column), 28×28 pixels


def center_of_mass(image: np.ndarray) -> tuple[float, float]:
    """(row, column) of the intensity-weighted mean pixel position: Σ p·r / Σ p, Σ p·c / Σ p."""
    total = image.sum()
    rows, cols = np.indices(image.shape)
    return float((image * rows).sum() / total), float((image * cols).sum() / total)


def mnist_style(image: np.ndarray, threshold: float = 0.1) -> np.ndarray:
    """[H, W] floats in [0, 1] (white ink on black) → [28, 28] floats as MNIST digits are framed.

    Crop to the ink's bounding box, scale its longer side to 20 pixels (area-averaged), and paste it
    into a 28×28 field with its centre of mass where MNIST's digits have theirs (MNIST_CENTRE).
    ValueError if there is no ink.
    """
    from PIL import Image

    image = np.asarray(image, dtype=np.float32)
    if image.ndim != 2:
        raise ValueError(f"expected a 2-D grey image, got shape {image.shape}")
    image = np.nan_to_num(np.clip(image, 0.0, 1.0))
    ink = image > threshold
    if not ink.any():
        raise ValueError("the drawing is empty: draw a digit first")
    rows, cols = np.flatnonzero(ink.any(1)), np.flatnonzero(ink.any(0))
    crop = image[rows[0]: rows[-1] + 1, cols[0]: cols[-1] + 1]
    scale = BOX / max(crop.shape)
    height, width = (max(1, round(side * scale)) for side in crop.shape)
    resample = Image.Resampling.BOX if scale < 1 else Image.Resampling.BILINEAR
    small = np.asarray(Image.fromarray(crop, mode="F").resize((width, height), resample), dtype=np.float32)
    small = np.clip(small, 0.0, 1.0)
    r, c = center_of_mass(small)
    top, left = round(MNIST_CENTRE[0] - r), round(MNIST_CENTRE[1] - c)
    top, left = min(max(top, 0), FIELD - height), min(max(left, 0), FIELD - width)
    field = np.zeros((FIELD, FIELD), dtype=np.float32)
    field[top: top + height, left: left + width] = small
    return field
