"""Train live's decoder's map and the run's timeline in a real browser: a model played for a minute, paused and
replayed at 2× (the map's axes fixed, blur turning into digits), and the map at a linked run's snapshot tested by its
pixels against decode(z) at its grid points, computed here from the same recipe and seed (upright, in place).

Skipped, like tests/browser/test_browser.py, when Chromium or Playwright is missing.
"""
import base64
import io
import re
import shutil
import time
from contextlib import contextmanager
from pathlib import Path

import numpy as np
from PIL import Image
from playwright.sync_api import expect

from tests.browser.test_live_browser import button, create_model, mode, stop
from tests.support.pixels import patch, similarity
from tests.support.server import needs_chromium
from tests.support.walk import VIEWPORT, check, runs, settle, wait_idle, watch
from vae import timeline as tl

needs_chromium()

TRAIN_SECONDS = 60  # the "done when": a minute of training before the replay
SHOTS = Path("/tmp/timeline-shots")  # the walk's screenshots, also kept here for a person to look at

# The map: the one chart titled "decode(z) on a 15×15 grid …"; its axes, title, alt text and layout image as drawn.
MAP_JS = """() => {
  const gd = [...document.querySelectorAll('[data-testid=stMain] .js-plotly-plot')].find(g =>
      g._fullLayout && g._fullLayout.title && String(g._fullLayout.title.text).includes('decode(z) on a'));
  if (!gd) return null;
  const fl = gd._fullLayout;
  const image = gd.querySelector('svg image');
  const href = image ? (image.getAttribute('href') || image.getAttribute('xlink:href') || '') : '';
  let hash = 0;
  for (let i = 0; i < href.length; i++) hash = (hash * 31 + href.charCodeAt(i)) | 0;
  const rect = e => { const b = e.getBoundingClientRect(); return [b.left, b.top, b.right, b.bottom]; };
  const labelled = gd.closest('[aria-label]');
  const box = gd.querySelector('.draglayer .nsewdrag').getBoundingClientRect();
  const li = fl.images && fl.images[0];
  return {title: String(fl.title.text).replace(/<br>/g, ' '), x: fl.xaxis.range.slice(), y: fl.yaxis.range.slice(),
          hash: hash, bytes: href.length, image: image ? rect(image) : null,
          row: rect(gd.closest('[data-testid=stHorizontalBlock]') || gd),
          alt: labelled ? labelled.getAttribute('aria-label') : '',
          corners: li ? [box.left + fl.xaxis.l2p(li.x), box.top + fl.yaxis.l2p(li.y),
                         box.left + fl.xaxis.l2p(li.x + li.sizex), box.top + fl.yaxis.l2p(li.y - li.sizey)] : null};
}"""

SOURCE_JS = """() => { const gd = [...document.querySelectorAll('[data-testid=stMain] .js-plotly-plot')].find(g =>
    g._fullLayout && g._fullLayout.title && String(g._fullLayout.title.text).includes('decode(z) on a'));
  const image = gd.querySelector('svg image'); return image.getAttribute('href') || image.getAttribute('xlink:href'); }"""

# The map's picture decoded and painted before a screenshot (a new <image> source decodes asynchronously).
PAINTED_JS = """async () => { const gd = [...document.querySelectorAll('[data-testid=stMain] .js-plotly-plot')].find(g =>
    g._fullLayout && g._fullLayout.title && String(g._fullLayout.title.text).includes('decode(z) on a'));
  const image = gd && gd.querySelector('svg image');
  const src = image ? (image.getAttribute('href') || image.getAttribute('xlink:href')) : null;
  if (src) { const im = new Image(); im.src = src; await im.decode().catch(() => null); }
  await new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)));
  return true; }"""


# The map shows a later step than n.
NEWER_MAP_JS = f"""(n) => {{ const s = ({MAP_JS})(); if (!s) return false;
  const m = /at step ([\\d,]+)/.exec(s.title); return !!m && parseInt(m[1].replace(/,/g, '')) > n; }}"""


def shown_step(state: dict) -> int:
    """The step in the map's title ("… at step 1,234 of 5,678", "… at step 80 (now)")."""
    return int(re.search(r"at step ([\d,]+)", state["title"]).group(1).replace(",", ""))


def map_state(page) -> dict | None:
    return page.evaluate(MAP_JS)


def capture(page, scale: int):
    """(the map's state, an RGB screenshot of the row of the cloud and the map in device pixels, the screenshot's
    top-left corner in page pixels) with nothing of the map changed while it was taken; None when it changed (a
    replay moved on)."""
    before = map_state(page)
    if before is None or before["image"] is None:
        return None
    page.evaluate(PAINTED_JS)
    left, top, right, bottom = before["row"]
    corner = (max(int(left) - 10, 0), max(int(top) - 10, 0))
    png = page.screenshot(scale="device", clip={"x": corner[0], "y": corner[1], "width": int(right) + 10 - corner[0],
                                                "height": int(bottom) + 10 - corner[1]})
    after = map_state(page)
    if after is None or any(before[k] != after[k] for k in ("title", "hash", "image", "row")):
        return None
    return after, np.asarray(Image.open(io.BytesIO(png)).convert("RGB")), corner


def steady_capture(page, scale: int):
    """capture() of a map that is not changing (settled first)."""
    settle(page)
    got = next((g for g in (capture(page, scale) for _ in range(5)) if g is not None), None)
    assert got is not None, "the map kept changing on a paused run"
    return got


def local(box, corner, scale: int):
    """A page box (left, top, right, bottom) in the pixels of a screenshot taken at `corner`, `scale` times finer."""
    return [(v - corner[k % 2]) * scale for k, v in enumerate(box)]


@contextmanager
def tab(browser, url: str, scale: int):
    """A browser of its own (its own key) with one tab, `scale` device pixels to a page pixel: a map drawn small on
    the timeline's widest axes still shows its tiles in more than a few pixels each. Opened at `url`, closed after."""
    context = browser.new_context(viewport=VIEWPORT, device_scale_factor=scale)
    try:
        page = context.new_page()
        page.set_default_timeout(60_000)
        watch(page)
        page.goto(url)
        wait_idle(page, since=0, start_timeout=10, timeout=120)
        yield page
    finally:
        context.close()


def tiles_of(grey: np.ndarray, box, n: int = tl.GRID) -> np.ndarray:
    """The n × n tiles of the screen's picture inside `box` (left, top, right, bottom), top row first, each resampled
    to 28 × 28: [n·n, 28, 28]."""
    left, top, right, bottom = box
    w, h = (right - left) / n, (bottom - top) / n
    return np.stack([patch(grey, left + j * w, top + i * h, left + (j + 1) * w, top + (i + 1) * h)
                     for i in range(n) for j in range(n)])


def cut(picture: np.ndarray, n: int = tl.GRID) -> np.ndarray:
    """A map picture [n·28, n·28] → its tiles [n·n, 28, 28], top row first."""
    return picture.reshape(n, 28, n, 28).transpose(0, 2, 1, 3).reshape(n * n, 28, 28)


def structure(tiles: np.ndarray) -> tuple[float, float]:
    """(contrast, spread) of a map's tiles at 7 × 7 (4 × 4 blocks averaged: pixel noise gone, strokes kept): a tile's
    own contrast, a digit's strokes on its background, and how much the tiles differ from each other."""
    small = tiles.reshape(len(tiles), 7, 4, 7, 4).mean((2, 4))
    return float(small.std((1, 2)).mean()), float(small.std(0).mean())


def sent_picture(page) -> np.ndarray:
    source = page.evaluate(SOURCE_JS)
    return np.asarray(Image.open(io.BytesIO(base64.b64decode(source.split(",", 1)[1]))).convert("L"),
                      dtype=np.float32) / 255.0


def timeline_steps(page) -> tuple[int, int]:
    """(snapshots, last step) from the scrubber's label "Timeline: K snapshots from step 0 to S"."""
    label = page.get_by_test_id("stMain").get_by_text(re.compile(r"^Timeline: \d+ snapshots")).first.inner_text()
    k, last = re.search(r"Timeline: (\d+) snapshots from step 0 to ([\d,]+)", label).groups()
    return int(k), int(last.replace(",", ""))


SCALE = 2  # device pixels to a page pixel in the walk's browser


def test_a_minute_of_training_replays_from_blur_to_digits_on_steady_axes(browser, server, tmp_path):
    """The issue's walk: a 2-D model on 2,000 digits played for a minute (its map redrawn as it trains, its step going
    up), paused, and replayed at 2× from step 0 to its end: every map the replay draws on the same axes, its steps in
    order. Then the map at the last, the first (step 0) and a middle snapshot, screenshot (the last at the replay's
    end, the others on the scrubber): the same axes at all three, blur at first and digits at the end; no exception
    on the page at any point."""
    started = time.monotonic()
    with tab(browser, server, SCALE) as page:
        main = create_model(page)
        check(page, step="a new 2-D model")
        mode(main, "Play").click()
        end, seen = time.monotonic() + TRAIN_SECONDS, []
        while time.monotonic() < end:  # the map redraws while it trains: its step goes up
            page.wait_for_function(NEWER_MAP_JS, arg=seen[-1] if seen else -1, timeout=30_000, polling=250)
            seen.append(shown_step(map_state(page)))
            check(page, step=f"playing, the map at step {seen[-1]:,}")
        assert len(seen) >= 10 and seen == sorted(seen), seen  # redrawn every 2 s, on and on
        before = runs(page)
        mode(main, "Pause").click()
        wait_idle(page, since=before, timeout=60)
        expect(main.get_by_text(re.compile(r"^Timeline: \d+ snapshots"))).to_be_visible(timeout=30_000)
        snapshots, last_step = timeline_steps(page)
        print(f"trained {last_step:,} steps in {TRAIN_SECONDS} s; the map was seen at {len(seen)} steps; "
              f"{snapshots} snapshots")
        assert snapshots >= 25 and last_step >= 200, (snapshots, last_step)  # (on two busy cores: 450 steps once)
        check(page, step="paused")

        before = runs(page)
        speed = main.get_by_role("radiogroup", name="Replay speed")  # its options: labels over hidden radio inputs
        speed.locator("label").filter(has_text=re.compile(r"^\s*2×\s*$")).click()
        wait_idle(page, since=before, timeout=60)
        expect(speed.get_by_role("radio", name="2×", exact=True)).to_be_checked()
        main.locator("[data-testid=stPlotlyChart]").last.scroll_into_view_if_needed()
        replay_start, axes_seen, shown = time.monotonic(), set(), []
        button(main, "Replay").click()  # from step 0: the scrubber is at the end
        while time.monotonic() - replay_start < 90:  # every map the replay draws, until its end
            state = map_state(page)
            if state is None:  # no map on the page (between two runs, or an exception box in its place)
                check(page, step="replaying: no map on the page")
                continue
            step, replaying = shown_step(state), bool(button(main, "Pause the replay").count())
            if shown or (replaying and step < last_step):  # from the replay's first step
                axes_seen.add((tuple(state["x"]), tuple(state["y"])))
                if not shown or shown[-1] != step:
                    shown.append(step)
            if shown and not replaying and step == last_step:
                break
        replayed = time.monotonic() - replay_start
        print(f"replayed {snapshots} snapshots in {replayed:.1f} s, {len(shown)} of them seen: {shown}")
        assert shown and shown[-1] == last_step, f"the replay did not reach its end in 90 s: it showed steps {shown}"
        assert len(shown) >= snapshots // 2 and shown == sorted(shown) and shown[0] <= 10, shown
        assert len(axes_seen) == 1, axes_seen  # one pair of axes all through the replay
        check(page, step="after the replay")

        # A 2× replay shows a snapshot for a quarter of a second, about what a screenshot takes here: the pictures
        # are taken once the replay is over, at its last step, then at its first and its middle one on the scrubber.
        shots = {"last": steady_capture(page, SCALE)}
        thumb = main.get_by_test_id("stSlider").filter(has_text="Timeline:").get_by_role("slider")
        end_x = thumb.bounding_box()["x"]
        before = runs(page)
        thumb.focus()
        page.keyboard.press("Home")
        wait_idle(page, since=before, timeout=60)
        page.wait_for_function(f"() => {{ const s = ({MAP_JS})(); return !!s && /at step 0 of/.test(s.title); }}",
                               timeout=30_000, polling=100)
        shots["early"] = steady_capture(page, SCALE)
        box = thumb.bounding_box()
        before = runs(page)
        page.mouse.click((box["x"] + end_x) / 2 + box["width"] / 2, box["y"] + box["height"] / 2)  # the track's middle
        wait_idle(page, since=before, timeout=60)
        page.wait_for_function(f"() => {{ const s = ({MAP_JS})(); return !!s && !/at step 0 of/.test(s.title); }}",
                               timeout=30_000, polling=100)
        shots["middle"] = steady_capture(page, SCALE)
        middle = shown_step(shots["middle"][0])
        print("the map captured at steps " + ", ".join(f"{k} {shown_step(s):,}" for k, (s, _, _) in shots.items()))
        assert shown[len(shown) // 4] <= middle <= shown[3 * len(shown) // 4], (middle, shown)  # the middle half
        check(page, step="scrubbed to the middle")
        stop(page)

    shutil.rmtree(SHOTS, ignore_errors=True)  # this run's three only
    SHOTS.mkdir()
    measured = {}
    for name, (state, rgb, corner) in shots.items():
        path = tmp_path / f"{name}-step-{shown_step(state)}.png"
        Image.fromarray(rgb).save(path)
        shutil.copy(path, SHOTS / path.name)
        grey = rgb.astype(np.float32).mean(2) / 255.0
        measured[name] = structure(tiles_of(grey, local(state["image"], corner, SCALE)))
        print(f"{name}: step {shown_step(state):,}, axes x {np.round(state['x'], 3)} y {np.round(state['y'], 3)}, "
              f"the map {state['image'][2] - state['image'][0]:.0f} px wide, contrast {measured[name][0]:.3f}, "
              f"spread {measured[name][1]:.3f}; alt: {state['alt']!r} → {SHOTS / path.name}")
    states = [shots[k][0] for k in ("early", "middle", "last")]
    assert all((s["x"], s["y"]) == (states[0]["x"], states[0]["y"]) for s in states), [(s["x"], s["y"]) for s in states]
    assert shown_step(states[0]) < shown_step(states[1]) < shown_step(states[2]) == last_step
    (early_contrast, early_spread), (last_contrast, last_spread) = measured["early"], measured["last"]
    assert last_contrast > 2 * early_contrast and last_spread > 1.5 * early_spread, measured
    print(f"the walk took {time.monotonic() - started:.0f} s")


def test_the_map_at_a_linked_snapshot_is_decode_of_its_grid_upright_and_in_place(browser, server, mnist_dir):
    """A link to a run recomputed to step 300 and paused at its snapshot of step 120: the map the screen shows, tile
    by tile, against decode(z) at the grid's points from the same recipe and seed trained here to step 120 — each
    tile upright (not flipped) and in its place (not the grid mirrored top to bottom), and the picture placed on
    the axes where its grid's latent points are."""
    from vae import VAEConfig
    from vae.data import load_dataset
    from vae.train import Trainer

    steps, at, scale = 300, 120, 3
    url = f"{server}/train?train_size=2%2C000&train_seed=0&train_latent=2&train_steps={steps}&train_at={at}"
    with tab(browser, url, scale) as page:
        page.wait_for_function(f"() => {{ const s = ({MAP_JS})(); return !!s && s.title.includes('at step {at} of "
                               f"{steps}') && !!s.image; }}", timeout=120_000, polling=100)
        main = page.get_by_test_id("stMain")
        main.locator("[data-testid=stPlotlyChart]").last.scroll_into_view_if_needed()
        state, rgb, corner = steady_capture(page, scale)
        sent = sent_picture(page)
        check(page, step="the linked run's map")
        stop(page)
    frame = float(re.search(r"from (-?[\d.]+) to ([\d.]+)", state["alt"]).group(2))
    print(f"map: {state['title']!r}, frame ±{frame:g}, axes x {np.round(state['x'], 3)} y {np.round(state['y'], 3)}, "
          f"image box {np.round(state['image'], 1)}, the layout image's corners by the axes "
          f"{np.round(state['corners'], 1)}")
    # in place: the picture spans its grid's outer tile edges as the chart's own axes transform puts them
    np.testing.assert_allclose(state["image"], state["corners"], atol=1.5)
    half = frame / (tl.GRID - 1)
    assert state["x"][1] >= frame + half - 1e-6 and state["y"][1] >= frame + half - 1e-6, (state, frame)

    config = VAEConfig(dataset="mnist", latent_dim=2, hidden=(256,), likelihood="gaussian", sigma_dec=0.3,
                       binarize=False, lr=1e-3, beta=1.0, batch_size=128, seed=0)
    train = load_dataset("mnist", "train", str(mnist_dir)).subset(2000)
    here = Trainer(config, train.images.flatten(1), "cpu")
    here.run(at)
    picture = tl.decoder_map(here.model, [0, 1], frame)
    truth = cut(picture)
    assert np.abs(cut(sent) - truth).max() < 0.02  # the picture the page sent is the decoder's (the app layer's check)

    # The screen's picture against decode(z), and against three wrong pictures: every tile upside down, the rows in
    # reverse order (tiles upright), the whole grid upside down. Each is drawn as the browser draws it (resampled to the
    # image's size on the screen) and found where it matches best within a pixel or so (the browser snaps the image
    # to whole device pixels; a pixel off in a 20-pixel tile of thin strokes costs a lot of likeness).
    grey = rgb.astype(np.float32).mean(2) / 255.0
    box = local(state["image"], corner, scale)
    n = tl.GRID
    rows = truth.reshape(n, n, 28, 28)
    candidates = {"upright": picture, "tiles flipped": tl.tiled(truth[:, ::-1], n),
                  "rows mirrored": tl.tiled(rows[::-1].reshape(-1, 28, 28), n), "grid upside down": picture[::-1]}
    found = {name: best_match(grey, box, candidate) for name, candidate in candidates.items()}
    overall, shift, _, _ = found["upright"]
    inner = (slice(None), slice(2, 26), slice(2, 26))  # a tile without its rim: the page's white at the picture's edge
    per_tile = {name: np.array([similarity(a, b) for a, b in zip(tiles_of(screen_, (0, 0, *screen_.shape[::-1]))[inner],
                                                                 tiles_of(drawn_, (0, 0, *drawn_.shape[::-1]))[inner])])
                for name, (_, _, screen_, drawn_) in found.items()}
    upright = per_tile["upright"]
    ink = truth.max((1, 2)) > 0.5
    print(f"similarity to decode(z) (the image found {shift} device px from its box): the whole picture "
          f"{overall:.3f}, per tile median {np.median(upright):.3f}, least of {ink.sum()} tiles with ink "
          f"{upright[ink].min():.3f}; " + ", ".join(f"{name} {found[name][0]:.3f} (per tile {np.median(v):.3f})"
                                                     for name, v in per_tile.items() if name != "upright"))
    assert max(abs(v) for v in shift) <= 3, shift  # within a page pixel of where its box says
    assert ink.sum() >= n * n // 2, ink.sum()
    # (each tile is drawn at about 17 of its 28 pixels: resampled twice, its least likeness 0.88 where the map was
    # drawn larger 0.95; a wrong picture scores 0.5–0.6, and must lose by 0.2 below)
    assert overall > 0.97 and np.median(upright) > 0.95 and upright[ink].min() > 0.85, (overall, upright[ink].min())
    for name, wrong in per_tile.items():
        if name != "upright":
            assert np.median(upright) > np.median(wrong) + 0.2, (name, np.median(upright), np.median(wrong))
            assert overall > found[name][0] + 0.2, (name, overall, found[name][0])


def best_match(grey: np.ndarray, box, picture: np.ndarray, reach: int = 3, rim: int = 3):
    """`picture` resampled to the size of `box` on the screen, and the screen's crop of that size, near `box`, most
    like it: (their similarity, the crop's shift (x, y) in pixels, the crop, the resampled picture). Compared without
    their outer `rim` pixels: a crop a pixel off the picture takes in the page's white beside it."""
    left, top, right, bottom = (round(v) for v in box)
    w, h = right - left, bottom - top
    drawn = np.asarray(Image.fromarray((np.clip(picture, 0, 1) * 255).astype(np.uint8)).resize((w, h), Image.BILINEAR),
                       dtype=np.float32) / 255.0
    best = None
    for dy in range(-reach, reach + 1):
        for dx in range(-reach, reach + 1):
            crop = grey[top + dy:top + dy + h, left + dx:left + dx + w]
            score = similarity(crop[rim:-rim, rim:-rim], drawn[rim:-rim, rim:-rim])
            if best is None or score > best[0]:
                best = (score, (dx, dy), crop, drawn)
    return best
