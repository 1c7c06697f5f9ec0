"""Pictures tested by their pixels: a screenshot, a latent point placed through the chart's own axis transform,
and the patch drawn there compared with the decoder's image computed here (upright, in the right place).

A test of a figure's data did not notice that Chromium drew the manifold grid upside down.
Skipped, like tests/browser/test_browser.py, when Chromium or Playwright is missing.
"""
import base64
import io
from contextlib import contextmanager

import numpy as np
import pytest
import torch
from PIL import Image

from tests.support import ROOT
from tests.support.pixels import (
    assert_upright,
    canvas_image,
    decoded,
    image_pixels,
    patch,
    resized,
    screenshot,
    shown_image,
    similarity,
    strip_frames,
)
from tests.support.server import needs_chromium
from tests.support.walk import click_point, draw_a_seven, new_session, settle, wait_idle
from ui.plots import extent
from vae import checkpoint
from vae.latent import project

needs_chromium()

L2P_JS = """([index, points]) => {
  const gd = document.querySelectorAll('[data-testid=stMain] .js-plotly-plot')[index];
  const fl = gd._fullLayout;
  const box = gd.querySelector('.draglayer .nsewdrag').getBoundingClientRect();
  return points.map(([x, y]) => [box.left + fl.xaxis.l2p(x), box.top + fl.yaxis.l2p(y)]);
}"""


def manifold_tiles(page, ranges, n: int = 15, index: int = 1, project=None):
    """For every tile of the manifold grid (plot `index`): (its latent point, the screenshot's patch there).

    The grid is computed here as the page defines it (n × n points spanning the scatter's `ranges`, each
    tile centred on its point); only the data → pixel transform is the chart's own (Plotly's l2p).
    """
    (x0, x1), (y0, y1) = ranges
    xs, ys = np.linspace(x0, x1, n), np.linspace(y0, y1, n)
    half_x, half_y = (xs[1] - xs[0]) / 2, (ys[1] - ys[0]) / 2
    corners = [[[x - half_x, y + half_y], [x + half_x, y - half_y]] for y in ys[::-1] for x in xs]  # top row first
    points = [c for pair in corners for c in pair]
    for _ in range(5):  # the transform read on both sides of the screenshot: nothing moved while it was taken
        pixels = page.evaluate(L2P_JS, [index, points])
        shot = screenshot(page)
        if page.evaluate(L2P_JS, [index, points]) == pixels:
            break
        settle(page)
    else:
        raise AssertionError("the manifold chart kept moving while it was screenshot")
    tiles = []
    for k, y in enumerate(ys[::-1]):
        for j, x in enumerate(xs):
            (px0, py0), (px1, py1) = pixels[2 * (k * n + j)], pixels[2 * (k * n + j) + 1]
            z = np.array([[x, y]]) if project is None else project(np.array([[x, y]]))
            tiles.append((z[0], patch(shot, px0, py0, px1, py1)))
    return tiles


GRID_DRAWN_JS = """() => { const gd = document.querySelectorAll('[data-testid=stMain] .js-plotly-plot')[1];
  const image = gd && gd.querySelector('svg image');
  return !!image && (image.getAttribute('href') || image.getAttribute('xlink:href') || '').startsWith('data:'); }"""

GRID_SOURCE_JS = """() => { const image = document.querySelectorAll('[data-testid=stMain] .js-plotly-plot')[1]
  .querySelector('svg image'); return image.getAttribute('href') || image.getAttribute('xlink:href'); }"""


@contextmanager
def explore(browser, server, model: str):
    """A new tab on Explore with `model`, once the manifold grid has been painted."""
    with new_session(browser, timeout=60) as page:
        page.goto(f"{server}/explore?model={model}")
        wait_idle(page, since=0, start_timeout=10, timeout=60)
        page.wait_for_function("() => document.querySelectorAll('[data-testid=stMain] .js-plotly-plot').length >= 2")
        page.wait_for_function("""(model) => [...document.querySelectorAll('[data-testid=stMain] .js-plotly-plot')]
            .some(gd => gd.layout && gd.layout.title && String(gd.layout.title.text).includes(model + ' ·')
                        && String(gd.layout.title.text).includes('decode(z)'))""", arg=model,
                               timeout=60_000, polling=100)  # this model's grid, not another's (its title: lines)
        page.wait_for_function(GRID_DRAWN_JS, timeout=60_000, polling=100)
        settle(page)
        yield page


@pytest.mark.parametrize("name", ["mnist-2d-sigma0.3", "mnist-16d-sigma0.3", "fashion-2d-sigma0.3"])
def test_the_manifold_grid_is_drawn_upright_and_in_place(browser, server, name):
    """Chromium drew the grid mirrored top to bottom, every tile upside down: decode(0, −3), an upright 7 at the
    bottom of the scatter, showed as upside-down 7s near the top. The same on the 16-D model's PCA plane."""
    saved = checkpoint.load(ROOT / "checkpoints" / f"{name}.safetensors")
    mu = saved.extras["test_mu"].numpy()
    plane = None if mu.shape[1] == 2 else project(mu.astype(np.float64), "pca")
    ranges = extent(mu if plane is None else plane.coords)  # the scatter's ranges, as the page sets them
    with explore(browser, server, name) as page:
        tiles = manifold_tiles(page, ranges, project=None if plane is None else plane.to_latent)
        sent = sent_grid(page.evaluate(GRID_SOURCE_JS))
    z = np.stack([t[0] for t in tiles])
    truth = decoded(saved.model, z)
    upright = np.median([similarity(p, t) for (_, p), t in zip(tiles, truth)])
    flipped = np.median([similarity(p, t[::-1]) for (_, p), t in zip(tiles, truth)])
    n = int(np.sqrt(len(tiles)))
    mirrored = np.median([similarity(p, truth[(n - 1 - i // n) * n + i % n]) for i, (_, p) in enumerate(tiles)])
    sent_upright = np.median([similarity(p, t) for p, t in zip(sent, truth)])  # what the page sent, not drew
    print(f"{name}: median similarity upright {upright:.3f}, flipped {flipped:.3f}, mirrored place {mirrored:.3f}"
          f" (the picture sent: {sent_upright:.3f})")
    assert upright > 0.9, (upright, flipped, mirrored, "sent", sent_upright)
    assert upright > flipped + 0.2 and upright > mirrored + 0.2, (upright, flipped, mirrored)


def sent_grid(source: str, n: int = 15, size: int = 28) -> list[np.ndarray]:
    """The tiles of the picture the page sent (its data URI), top row first: tells a wrong picture from a
    picture drawn in the wrong place."""
    picture = np.asarray(Image.open(io.BytesIO(base64.b64decode(source.split(",", 1)[1]))).convert("L"),
                         dtype=np.float32) / 255.0
    return [picture[r * size:(r + 1) * size, c * size:(c + 1) * size] for r in range(n) for c in range(n)]


def densest_point(mu: np.ndarray, sample: int = 2000) -> int:
    """The test digit with the most neighbours within 0.3 (of the first `sample`): where dots pile up."""
    points = mu[:sample]
    close = (np.linalg.norm(points[:, None] - points[None], axis=-1) < 0.3).sum(1)
    return int(np.argmax(close))


def test_the_selection_and_z_are_drawn_above_the_points_and_the_plot_keeps_its_width(browser, server):
    """The selected point's ring and the × of z were SVG traces, drawn under the WebGL layer of 10,000 dots;
    after a click the legend grew ("selected", "z") and the scatter narrowed, out of line with the grid."""
    saved = checkpoint.load(ROOT / "checkpoints" / "mnist-2d-sigma0.3.safetensors")
    mu = saved.extras["test_mu"].numpy()
    index = densest_point(mu)
    with explore(browser, server, "mnist-2d-sigma0.3") as page:
        width = page.evaluate("() => document.querySelector('[data-testid=stMain] .js-plotly-plot')._fullLayout._size.w")
        page.goto(f"{server}/explore?model=mnist-2d-sigma0.3&index={index}&z={mu[index, 0]:.3f},{mu[index, 1]:.3f}")
        wait_idle(page, since=0, start_timeout=10, timeout=60)
        page.get_by_text(f"test #{index}:").wait_for()
        settle(page)
        after = page.evaluate("() => document.querySelector('[data-testid=stMain] .js-plotly-plot')._fullLayout._size.w")
        [(px, py)] = page.evaluate(L2P_JS, [0, [[float(mu[index, 0]), float(mu[index, 1])]]])
        shot = screenshot(page)
    around = shot[int(py) - 8:int(py) + 9, int(px) - 8:int(px) + 9]
    assert (around < 0.15).sum() >= 20, f"{(around < 0.15).sum()} near-black pixels where the × and the ring are"
    assert after == width, (width, after)


def test_the_elbo_pages_sigma_labels_sit_beside_their_lines(browser, server):
    """The "σ = 0.3" and "σ* = 0.197" labels sat at the chart's right edge, away from their lines (log axis)."""
    with new_session(browser, f"{server}/elbo?model=mnist-2d-sigma0.3", timeout=60) as page:
        # The chart as Plotly drew it, not the page's text: "σ* =" is in the words under the chart too, and the chart
        # was once read before Plotly had drawn its lines' labels (a page is idle before its charts are drawn).
        page.wait_for_function("""() => [...document.querySelectorAll('[data-testid=stMain] .js-plotly-plot')].some(gd =>
            gd._fullLayout && (gd._fullLayout.shapes || []).length >= 2 && gd.querySelector('.draglayer .nsewdrag')
            && gd.querySelectorAll('.annotation').length >= gd._fullLayout.shapes.length
            && [...gd.querySelectorAll('.annotation')].some(a => a.textContent.startsWith('σ* =')))""",
                               timeout=30_000, polling=100)
        settle(page)
        found = page.evaluate("""() => {
          const out = [];
          for (const gd of document.querySelectorAll('[data-testid=stMain] .js-plotly-plot')) {
            const fl = gd._fullLayout;
            if (!fl.shapes || fl.shapes.length < 2) continue;
            const box = gd.querySelector('.draglayer .nsewdrag').getBoundingClientRect();
            const labels = [...gd.querySelectorAll('.annotation')];
            fl.shapes.forEach((shape, i) => {
              const x = box.left + fl.xaxis.l2p(fl.xaxis.d2l(shape.x0));
              const label = labels[i].getBoundingClientRect();
              out.push([labels[i].textContent, x, label.left, label.right]);
            });
          }
          return out;
        }""")
    assert len(found) == 2, found
    for text, line_x, left, right in found:
        assert line_x - 2 <= left <= line_x + 12, (text, line_x, left, right)  # just right of its own line


def test_the_collapse_note_covers_no_models_label_and_every_label_is_inside_the_plot(browser, server):
    """The "posterior collapse" arrow came down from above across the "σ=2" label; "σ=3" was cut at the edge."""
    with new_session(browser, f"{server}/rate_distortion", timeout=60) as page:
        page.get_by_text("posterior collapse").first.wait_for()
        settle(page)
        boxes = page.evaluate("""() => {
          const gd = document.querySelector('[data-testid=stMain] .js-plotly-plot');
          const rect = e => { const b = e.getBoundingClientRect(); return [b.left, b.top, b.right, b.bottom]; };
          return {labels: [...gd.querySelectorAll('.textpoint text')].map(e => [e.textContent, rect(e)]),
                  note: [...gd.querySelectorAll('.annotation-text-g, .annotation-arrow-g')].map(rect),
                  plot: rect(gd.querySelector('.draglayer .nsewdrag'))};
        }""")
    assert len(boxes["labels"]) == 10 and len(boxes["note"]) == 2, boxes
    overlap = lambda a, b: min(a[2], b[2]) - max(a[0], b[0]) > 0 and min(a[3], b[3]) - max(a[1], b[1]) > 0  # noqa: E731
    for text, label in boxes["labels"]:
        assert not any(overlap(label, note) for note in boxes["note"]), (text, label, boxes["note"])
        assert boxes["plot"][0] <= label[0] and label[2] <= boxes["plot"][2], (text, label, boxes["plot"])


def test_the_pad_moves_with_the_keyboard_and_draws_the_decoders_image_upright(browser, server):
    """Arrow keys, Enter and Space did nothing on the focused pad. Each step is 1/50 of the pad (Shift: 1/5), the
    position is written out for screen readers, and the decoded image is the decoder's, upright, at that z."""
    saved = checkpoint.load(ROOT / "checkpoints" / "mnist-2d-sigma0.3.safetensors")
    (x0, x1), (y0, y1) = extent(saved.extras["test_mu"].numpy())
    with explore(browser, server, "mnist-2d-sigma0.3") as page:
        pad, digit = page.locator("canvas.pad"), page.locator("canvas.digit")
        pad.wait_for()
        pad.scroll_into_view_if_needed()
        z_of = lambda: np.array(pad.evaluate("c => Array.from(c.closest('.vae-pad').__ui.z)"), dtype=np.float64)  # noqa: E731
        start = z_of()
        pad.focus()
        for _ in range(5):
            page.keyboard.press("ArrowRight")
        page.keyboard.press("Shift+ArrowUp")
        page.keyboard.press("ArrowDown")
        moved = z_of()
        np.testing.assert_allclose(moved - start, [5 * (x1 - x0) / 50, (y1 - y0) / 5 - (y1 - y0) / 50], atol=1e-5)
        position = page.locator("div.position")
        assert position.get_attribute("role") == "status" and position.get_attribute("aria-live") == "polite"
        assert position.inner_text() == f"z1 = {moved[0]:.2f} (across), z2 = {moved[1]:.2f} (up)"
        assert pad.get_attribute("aria-describedby") == position.get_attribute("id")
        page.wait_for_timeout(300)
        drawn = canvas_image(page, digit)
        for _ in range(200):  # Shift+ArrowLeft past the pad's left edge: z stops there
            page.keyboard.press("Shift+ArrowLeft")
        assert z_of()[0] == pytest.approx(x0, abs=1e-5)
        page.keyboard.press("Enter")  # applied at once: Python's z follows (the server-side caption)
        page.get_by_text("Server-side decoding (sliders)").click()
        caption = page.locator("p", has_text="z = (")
        expected = f"z = ({x0:.2f}, {moved[1]:.2f})"
        page.wait_for_function("t => [...document.querySelectorAll('p')].some(p => p.innerText === t)", arg=expected)
        assert caption.first.inner_text() == expected
    truth = decoded(saved.model, moved[None])[0]
    upright, flipped = similarity(drawn, truth), similarity(drawn, truth[::-1])
    print(f"pad image: similarity upright {upright:.3f}, flipped {flipped:.3f}")
    assert upright > 0.95 and upright > flipped + 0.2, (upright, flipped)


def test_a_click_in_empty_space_decodes_that_z_upright(browser, server):
    """Explore's server-side image for a clicked point of the click grid: decode(z) at the point clicked."""

    saved = checkpoint.load(ROOT / "checkpoints" / "mnist-2d-sigma0.3.safetensors")
    with explore(browser, server, "mnist-2d-sigma0.3") as page:
        page.get_by_text("Server-side decoding (sliders)").click()
        grid = 40 * 8 + 30  # a point of the invisible click grid (curve 0), right of centre and low
        x, y = page.evaluate(f"() => {{ const t = document.querySelector('[data-testid=stMain] .js-plotly-plot')"
                             f"._fullData[0]; return [t.x[{grid}], t.y[{grid}]]; }}")
        click_point(page, curve=0, index=grid)
        page.get_by_text(f"z = ({x:.2f}, {y:.2f})").wait_for()
        settle(page)
        drawn = resized(shown_image(page, f"z = ({x:.2f}, {y:.2f})"))
    assert_upright("click-to-decode", drawn, decoded(saved.model, np.array([[x, y]]))[0])


def test_the_interpolation_strips_are_the_decoded_paths_from_a_to_b(browser, server):
    """Each frame of the lerp and slerp strips against decode(path[k]) computed here, upright and in order."""
    from vae.latent import lerp, slerp

    saved = checkpoint.load(ROOT / "checkpoints" / "mnist-2d-sigma0.3.safetensors")
    mu = saved.extras["test_mu"].float()
    a, b, steps = 3, 11, 8
    with new_session(browser, f"{server}/interpolate?model=mnist-2d-sigma0.3&interp_a={a}&interp_b={b}"
                              f"&interp_steps={steps}", timeout=60) as page:
        page.get_by_role("heading", name="slerp").wait_for()
        settle(page)
        images_ = page.locator("[data-testid=stImage]").filter(has_text=f"(#{a}) → ")
        assert images_.count() == 2
        strips = {name: image_pixels(page, images_.nth(k).locator("img")) for k, name in enumerate(("lerp", "slerp"))}
    for name, path in (("lerp", lerp(mu[a], mu[b], steps)), ("slerp", slerp(mu[a], mu[b], steps))):
        truth = decoded(saved.model, path.numpy())
        frames = strip_frames(strips[name], steps)
        upright = [similarity(f, t) for f, t in zip(frames, truth)]
        flipped = [similarity(f, t[::-1]) for f, t in zip(frames, truth)]
        print(f"{name}: similarity per frame upright {np.round(upright, 3)}, flipped {np.round(flipped, 3)}")
        assert min(upright) > 0.9 and np.mean(upright) > np.mean(flipped) + 0.15, (name, upright, flipped)
        in_order = np.mean(upright)
        reversed_ = np.mean([similarity(f, t) for f, t in zip(frames, truth[::-1])])
        assert in_order > reversed_ + 0.1, (name, in_order, reversed_)  # A on the left, B on the right


def test_the_posteriors_q_ellipses_are_centred_on_the_encoders_mean(browser, server):
    """The crimson 1σ/2σ ellipses and × of q(z|x), found by colour on the screen, centred where the chart's own
    transform puts μ = encode(x) computed here."""
    from vae.data import load_dataset

    saved = checkpoint.load(ROOT / "checkpoints" / "mnist-2d-sigma0.3.safetensors")
    test = load_dataset("mnist", "test")
    index = 4
    with torch.no_grad():
        mu = saved.model.encode(test.images[index:index + 1].flatten(1).float() / 255)[0][0].numpy()
    with new_session(browser, f"{server}/posterior?model=mnist-2d-sigma0.3&posterior_index={index}", timeout=60) as page:
        page.get_by_text("log p(x), grid integral").wait_for()
        plot = page.locator("[data-testid=stMain] .js-plotly-plot").first
        plot.scroll_into_view_if_needed()
        settle(page)
        [(px, py)] = page.evaluate(L2P_JS, [0, [[float(mu[0]), float(mu[1])]]])
        [(mx, my)] = page.evaluate(L2P_JS, [0, [[float(mu[0]), -float(mu[1])]]])
        area = page.evaluate("() => { const b = document.querySelector('[data-testid=stMain] .js-plotly-plot "
                             ".draglayer .nsewdrag').getBoundingClientRect(); return [b.left, b.top, b.right, b.bottom]; }")
        rgb = np.asarray(Image.open(io.BytesIO(page.screenshot(scale="css"))).convert("RGB"), dtype=np.float32)
    left, top, right, bottom = (int(round(v)) for v in area)
    inside = rgb[top:bottom, left:right]
    crimson = (inside[..., 0] > 150) & (inside[..., 1] < 90) & (inside[..., 2] < 110)
    rows, cols = np.nonzero(crimson)
    assert len(rows) > 100, len(rows)
    cx, cy = left + cols.mean(), top + rows.mean()
    print(f"q ellipse centre ({cx:.1f}, {cy:.1f}) px, μ at ({px:.1f}, {py:.1f}), mirrored μ at ({mx:.1f}, {my:.1f})")
    assert abs(cx - px) < 4 and abs(cy - py) < 4, ((cx, cy), (px, py))


def test_the_draw_pages_reconstruction_is_decode_of_the_drawings_mean(browser, server):
    """The framed drawing as shown, encoded here; the shown reconstruction against decode(μ), upright."""
    saved = checkpoint.load(ROOT / "checkpoints" / "mnist-2d-sigma0.3.safetensors")
    with new_session(browser, f"{server}/draw?model=mnist-2d-sigma0.3", timeout=60) as page:
        draw_a_seven(page)
        page.get_by_text("its reconstruction").wait_for()
        settle(page)
        framed = resized(shown_image(page, "your drawing, as MNIST frames it"))
        shown = resized(shown_image(page, "its reconstruction"))
    with torch.no_grad():
        mu = saved.model.encode(torch.from_numpy(framed).reshape(1, -1))[0].numpy()
    assert framed[:10].mean() > framed[18:].mean() * 0.5  # the 7's bar is at the top of the framed input
    assert_upright("draw reconstruction", shown, decoded(saved.model, mu)[0])
