"""The Generate and Reparameterisation pages and the ELBO page's sweep mode in Chromium: decoded images checked by
their pixels against the decoder run here. Skipped, like the other browser tests, without Chromium."""
import numpy as np

from tests.support import ROOT
from tests.support.pixels import (
    assert_upright,
    decoded,
    image_pixels,
    resized,
    shown_image,
    similarity,
    strip_frames,
)
from tests.support.server import needs_chromium
from tests.support.walk import new_session, settle
from vae import checkpoint
from vae.generate import monte_carlo_elbo, prior_codes

needs_chromium()

ARTIFACTS = ROOT / "test-artifacts"


def tiles(pixels: np.ndarray, rows: int, cols: int) -> list[np.ndarray]:
    """A tiled picture (28 × 28 tiles, 1-pixel gaps, any enlargement) cut back into its tiles, 28 × 28 each."""
    unit_y, unit_x = pixels.shape[0] / (rows * 29 - 1), pixels.shape[1] / (cols * 29 - 1)
    return [resized(pixels[int(round(r * 29 * unit_y)):int(round((r * 29 + 28) * unit_y)),
                           int(round(c * 29 * unit_x)):int(round((c * 29 + 28) * unit_x))])
            for r in range(rows) for c in range(cols)]


def test_the_prior_samples_are_the_decoders_images_of_the_seeded_codes(browser, server):
    saved = checkpoint.load(ROOT / "checkpoints" / "mnist-2d-sigma0.3.safetensors")
    with new_session(browser, f"{server}/generate?model=mnist-2d-sigma0.3&generate_tau=0.8&generate_seed=5",
                     timeout=60) as page:
        page.get_by_text("48 samples, τ = 0.8, seed 5").wait_for()
        settle(page)
        grid = shown_image(page, "48 samples")
        page.set_viewport_size({"width": 1400, "height": 2000})
        settle(page)
        page.screenshot(path=ARTIFACTS / "generate.png", full_page=True)
    truth = decoded(saved.model, prior_codes(48, 2, 0.8, seed=5).numpy())
    drawn = tiles(grid, 6, 8)
    upright = [similarity(d, t) for d, t in zip(drawn, truth)]
    flipped = [similarity(d, t[::-1]) for d, t in zip(drawn, truth)]
    print(f"prior samples: median similarity upright {np.median(upright):.3f}, flipped {np.median(flipped):.3f}")
    assert np.median(upright) > 0.95 and np.median(upright) > np.median(flipped) + 0.2


def test_each_reparameterised_sample_is_decoded_at_its_z(browser, server):
    from vae.data import load_dataset

    saved = checkpoint.load(ROOT / "checkpoints" / "mnist-2d-sigma0.3.safetensors")
    x = load_dataset("mnist", "test").images[3].float().flatten() / 255
    mc = monte_carlo_elbo(saved.model, x, 4, seed=2)
    with new_session(browser, f"{server}/reparameterisation?model=mnist-2d-sigma0.3&sampling_index=3&sampling_l=4"
                              "&sampling_seed=2", timeout=60) as page:
        page.get_by_text("How the estimate's spread falls with L").wait_for()
        settle(page)
        drawn = [resized(shown_image(page, f"z⁽{k + 1}⁾: ")) for k in range(4)]
        page.set_viewport_size({"width": 1400, "height": 2200})
        settle(page)
        page.screenshot(path=ARTIFACTS / "reparameterisation.png", full_page=True)
    truth = decoded(saved.model, mc.z)
    for k in range(4):
        assert_upright(f"sample {k + 1}", drawn[k], truth[k])


def test_the_sweep_mode_draws_each_models_reconstruction(browser, server):
    with new_session(browser, f"{server}/elbo?model=mnist-2d-sigma0.3&elbo_mode=a+model+trained+at+each+"
                              "%CF%83_dec&elbo_sweep_sigma=2", timeout=60) as page:
        page.get_by_text("Mode: a model trained at each σ_dec").wait_for()
        page.get_by_text("Its reconstruction by each model").wait_for()
        settle(page)
        page.set_viewport_size({"width": 1400, "height": 2000})
        settle(page)
        page.screenshot(path=ARTIFACTS / "elbo-sweep.png", full_page=True)
        assert page.locator("[data-testid=stMain] .js-plotly-plot").count() == 3  # a chart a term: reconstruction,
        # distortion, KL (one figure of three panels did not fit a phone)


def test_a_traversal_row_is_the_decoder_with_one_dimension_moved(browser, server):
    """The first row of the 16-D model's traversals: its most active dimension at −3…3, the rest at test #0's μ."""
    from vae.generate import dimensions_by_kl, traversal

    saved = checkpoint.load(ROOT / "checkpoints" / "mnist-16d-sigma0.3.safetensors")
    first = dimensions_by_kl(saved.metrics["test"]["kl_per_dim"])[0]
    truth = traversal(saved.model, saved.extras["test_mu"][0].float(), [first], np.linspace(-3, 3, 9))[0]
    truth = truth.numpy().reshape(9, 28, 28)
    with new_session(browser, f"{server}/generate?model=mnist-16d-sigma0.3&generate_index=0", timeout=60) as page:
        page.get_by_text("Latent traversals").wait_for()
        page.get_by_text(f"z{first + 1}", exact=True).first.wait_for()
        settle(page)
        strip = image_pixels(page, page.locator("[data-testid=stMain] [data-testid=stImage] img").nth(1))  # 0: the grid
    frames = strip_frames(strip, 9)
    upright = [similarity(f, t) for f, t in zip(frames, truth)]
    flipped = [similarity(f, t[::-1]) for f, t in zip(frames, truth)]
    print(f"traversal of z{first + 1}: upright {np.round(upright, 3)}, flipped {np.round(flipped, 3)}")
    assert min(upright) > 0.8 and np.mean(upright) > 0.95 and np.mean(upright) > np.mean(flipped) + 0.3
