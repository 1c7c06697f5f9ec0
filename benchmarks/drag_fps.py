"""Decoded frames per second while dragging the latent pad, against the server-side slider path.

(a) The pad (client-side decoder): Playwright drags the mouse across it for --seconds in headless
    Chromium; the component counts decoded frames and times each decode (window.__vaePadStats).
(b) The server-side path on the same page: the z1 slider's thumb dragged to and fro for --seconds;
    every time the server's decoded image changes is one update.
Both on the Explore page, opened by its own link (/explore): the app's root is the Learn page, which has no pad.
Target: ≥ 60 decoded frames/s with p95 decode ≤ 4 ms, for the shipped 2-D model.

    VAE_DATA_DIR=../shared/datasets python benchmarks/drag_fps.py [--seconds 4]
"""
from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from tests.support.server import chromium, streamlit_server  # noqa: E402

COUNT_IMAGE_CHANGES = """() => {
  window.__serverUpdates = 0;
  let last = null;
  setInterval(() => {
    const img = document.querySelector('[data-testid=stExpander] img');
    if (img && img.src !== last) { if (last !== null) window.__serverUpdates += 1; last = img.src; }
  }, 5);
}"""

DRAG_IN_PAGE = """async (seconds) => {
  const pad = document.querySelector('canvas.pad') ||
    [...document.querySelectorAll('*')].map(e => e.shadowRoot && e.shadowRoot.querySelector('canvas.pad')).find(Boolean);
  const box = pad.getBoundingClientRect();
  const cx = box.left + box.width / 2, cy = box.top + box.height / 2, r = box.width * 0.35;
  const fire = (type, a) => pad.dispatchEvent(new PointerEvent(type, {bubbles: true, pointerId: 1, isPrimary: true,
    clientX: cx + r * Math.cos(a), clientY: cy + r * Math.sin(a)}));
  window.__vaePadStats.frames = 0; window.__vaePadStats.decodeMs = [];
  fire('pointerdown', 0);
  const start = performance.now();
  let events = 0;
  while (performance.now() - start < seconds * 1000) {
    fire('pointermove', events * 0.02); events += 1;
    await new Promise(resolve => setTimeout(resolve, 4));
  }
  const elapsed = (performance.now() - start) / 1000;
  fire('pointerup', events * 0.02);
  return [window.__vaePadStats.frames, events, elapsed, window.__vaePadStats.decodeMs];
}"""


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", default=os.environ.get("VAE_DATA_DIR", ""))
    parser.add_argument("--seconds", type=float, default=4.0)
    args = parser.parse_args()
    env = {"VAE_DATA_DIR": args.data_dir, "VAE_STATE_DIR": tempfile.mkdtemp(prefix="vae-state-")}
    with streamlit_server(env) as (url, _, _), chromium() as browser:
        page = browser.new_page(viewport={"width": 1500, "height": 1100})
        page.set_default_timeout(60_000)
        page.goto(f"{url}/explore")  # the pad is on Explore; the app's root is the Learn page
        pad = page.locator("canvas.pad")
        pad.wait_for()
        pad.scroll_into_view_if_needed()
        page.wait_for_timeout(1000)
        frames, events, elapsed, times = page.evaluate(DRAG_IN_PAGE, args.seconds)
        times = sorted(times)
        p95 = times[int(0.95 * (len(times) - 1))] if times else float("nan")
        print(f"(a) pad, decoded in the browser: {frames / elapsed:.0f} frames/s over {elapsed:.1f} s "
              f"({events / elapsed:.0f} pointer events/s); decode p50 {times[len(times) // 2]:.2f} ms, p95 {p95:.2f} ms")

        page.wait_for_timeout(1500)
        page.get_by_text("Server-side decoding (sliders)").click()
        slider = page.locator("[data-testid=stExpander] [data-testid=stSlider]").first
        slider.scroll_into_view_if_needed()
        page.wait_for_timeout(1000)
        thumb = slider.get_by_role("slider")
        low, high, value = (float(thumb.get_attribute(a)) for a in ("min", "max", "value"))
        track = slider.locator("[data-orientation=horizontal]").first.bounding_box()
        x = track["x"] + (value - low) / (high - low) * track["width"]
        y = track["y"] + track["height"] / 2
        page.evaluate(COUNT_IMAGE_CHANGES)
        page.mouse.move(x, y)
        page.mouse.down()
        start, moves = time.perf_counter(), 0
        while time.perf_counter() - start < args.seconds:  # sweep the thumb to and fro along the track
            moves += 1
            phase = (moves % 200) / 100
            fraction = phase if phase <= 1 else 2 - phase
            page.mouse.move(track["x"] + fraction * track["width"], y)
        page.mouse.up()
        page.wait_for_timeout(1500)  # let the last round trip land
        elapsed = time.perf_counter() - start
        updates = page.evaluate("() => window.__serverUpdates")
        presses = moves
        print(f"(b) server-side slider on the same page, dragged: {updates / elapsed:.1f} image updates/s "
              f"({presses} pointer moves in {args.seconds:.0f} s)")
        print("target: >= 60 frames/s and p95 <= 4 ms for (a)")


if __name__ == "__main__":
    main()
