"""A drawing made MNIST-like (crop, 20×20 box, centre of mass), decoded from the canvas, and encoded."""
import base64

import numpy as np
import pytest
import torch

from tests.support import ROOT
from ui.draw_canvas import decode_drawing
from vae import checkpoint
from vae.objective import elbo
from vae.preprocess import center_of_mass, mnist_style
from vae.probe import encode_one


def blur(image):
    padded = np.pad(image, 1)
    return sum(padded[i: i + 28, j: j + 28] for i in range(3) for j in range(3)) / 9


def test_mnist_style_places_the_centre_of_mass_where_mnist_has_it(mnist_train):
    """The drawing was centred at (13.5, 13.5); MNIST's digits have their centre of mass at (14.00, 14.01)."""
    from vae.preprocess import MNIST_CENTRE

    x = mnist_train.images.numpy().astype(np.float64)
    mass, rows = x.sum((1, 2)), np.arange(28)
    measured = ((x.sum(2) * rows).sum(1) / mass).mean(), ((x.sum(1) * rows).sum(1) / mass).mean()
    assert np.allclose(measured, MNIST_CENTRE, atol=0.01), measured


def test_an_enlarged_shifted_mnist_digit_comes_back_to_itself(mnist_test):
    from vae.preprocess import MNIST_CENTRE

    digits = mnist_test.images[:100].numpy() / 255.0
    similarities, centres = [], []
    for x in digits:
        canvas = np.zeros((150, 150), dtype=np.float32)
        canvas[60:144, 3:87] = np.kron(x, np.ones((3, 3)))  # 3× larger, in the lower-left corner
        y = mnist_style(canvas)
        assert y.shape == (28, 28) and 0 <= y.min() and y.max() <= 1
        r, c = center_of_mass(y)
        centres.append((r, c))
        assert abs(r - MNIST_CENTRE[0]) <= 0.75 and abs(c - MNIST_CENTRE[1]) <= 0.75  # placed by its centre of mass
        rows, cols = np.flatnonzero((y > 0.1).any(1)), np.flatnonzero((y > 0.1).any(0))
        assert max(rows[-1] - rows[0], cols[-1] - cols[0]) + 1 <= 21  # fits the 20×20 box (±1 for anti-aliasing)
        bx, by = blur(x), blur(y)  # a one-pixel offset from rounding should not count as a different digit
        similarities.append(float((bx * by).sum() / np.sqrt((bx * bx).sum() * (by * by).sum())))
    assert np.median(similarities) > 0.9 and np.min(similarities) > 0.6
    assert np.allclose(np.mean(centres, 0), MNIST_CENTRE, atol=0.15), np.mean(centres, 0)  # not 13.5


def test_a_thin_stroke_keeps_its_aspect_ratio():
    canvas = np.zeros((56, 56), dtype=np.float32)
    canvas[5:50, 30:33] = 1.0  # a tall "1"
    y = mnist_style(canvas)
    rows, cols = np.flatnonzero((y > 0.1).any(1)), np.flatnonzero((y > 0.1).any(0))
    assert rows[-1] - rows[0] + 1 == 20 and cols[-1] - cols[0] + 1 <= 3


@pytest.mark.parametrize("bad,words", [(np.zeros((56, 56)), "empty"), (np.zeros((3, 4, 5)), "2-D"),
                                       (np.full((56, 56), np.nan), "empty")])
def test_bad_drawings_are_refused_with_a_message(bad, words):
    with pytest.raises(ValueError, match=words):
        mnist_style(bad)


def test_the_canvas_value_is_decoded_and_malformed_values_are_ignored():
    pixels = np.arange(56 * 56, dtype=np.uint32).astype(np.uint8)
    value = {"size": 56, "pixels": base64.b64encode(pixels.tobytes()).decode(), "strokes": 1}
    image = decode_drawing(value)
    assert image.shape == (56, 56) and image[0, 1] == pytest.approx(1 / 255)
    for bad in (None, "x", {"size": 56}, {"size": 56, "pixels": "!!"}, {"size": 57, "pixels": value["pixels"]},
                {"size": 10**6, "pixels": ""}):
        assert decode_drawing(bad) is None


def test_encode_one_gives_the_elbo_terms_of_the_library(mnist_test):
    model = checkpoint.load(ROOT / "checkpoints" / "mnist-2d-sigma0.3.safetensors").model
    x = mnist_test.images[0].numpy() / 255.0
    probe = encode_one(model, x, samples=4000, iw_samples=500)
    assert probe.elbo == pytest.approx(probe.reconstruction_term - probe.kl)
    reference = elbo(model, torch.as_tensor(x, dtype=torch.float32).reshape(1, -1), samples=4000,
                     generator=torch.Generator().manual_seed(1))
    assert probe.elbo == pytest.approx(reference.elbo[0].item(), abs=1.0)
    assert probe.kl == pytest.approx(reference.kl[0].item(), rel=1e-5)
    assert probe.log_px_iwae >= probe.elbo - 1.0
    assert probe.mu.shape == (2,) and probe.reconstruction.shape == (28, 28)
    with pytest.raises(ValueError, match="784 pixels"):
        encode_one(model, np.zeros((20, 20)))
