"""Seconds each step of the guided path takes to draw in Chromium after "Next" (target ≤ 2 s on 2 cores), and how
soon the old step leaves the screen.

One server and one browser, as a student has them. Each round opens the path at step 1 on a model and a test image
(a different image each round: the figures of steps 3 and 4 are computed per image), then presses Next ten times; for
each step it times, from the click until the script run has ended and the page has been still for 0.15 s
(tests/support/walk.wait_idle), and until the previous step's title has left the screen (looked for on every frame).
Then it locks in a prediction and reveals the answer, timed the same way. Prints the median and the worst per step.

    VAE_DATA_DIR=../shared/datasets python benchmarks/learn_steps.py [--rounds 3] [--model mnist-2d-sigma0.3]
"""
from __future__ import annotations

import argparse
import os
import re
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from tests.support.server import chromium, streamlit_server  # noqa: E402
from tests.support.walk import runs, wait_idle, watch  # noqa: E402

TITLE = "[data-testid=stMain] .st-key-learn_body h3"


def timed(page, action) -> float:
    """Seconds from `action()` until the app is idle again."""
    before = runs(page)
    start = time.perf_counter()
    action()
    wait_idle(page, timeout=120, since=before)
    return time.perf_counter() - start - 0.15  # less the quiet time wait_idle waits for


def old_title_gone(page, old: str, start: float, within: float = 5.0) -> float:
    """Seconds from `start` until the old step's title has left the screen (looked for on every frame)."""
    page.wait_for_function("([s, old]) => { const h = document.querySelector(s); return !h || h.innerText !== old; }",
                           arg=[TITLE, old], timeout=within * 1000, polling="raf")
    return time.perf_counter() - start


def round_of(browser, url: str, model: str, index: int) -> dict:
    page = browser.new_page(viewport={"width": 1500, "height": 1100})
    watch(page)
    page.goto(f"{url}/?model={model}&learn_step=1&learn_index={index}")
    wait_idle(page, since=0, start_timeout=10, timeout=120)
    found = {}
    for step in range(1, 12):
        if step > 1:
            old = page.locator(TITLE).inner_text()
            before = runs(page)
            start = time.perf_counter()
            page.get_by_role("button", name=re.compile("Next")).click()
            gone = old_title_gone(page, old, start)
            wait_idle(page, timeout=120, since=before)
            found[f"step {step}"] = (time.perf_counter() - start - 0.15, gone)
        radio = page.get_by_test_id("stRadio").filter(has_text="Your prediction")
        if radio.count():
            radio.locator("label").nth(1).click()  # the first option (the first label is the group's)
            wait_idle(page, timeout=60)
            found[f"lock {step}"] = (timed(page, lambda: page.get_by_role(
                "button", name="Lock in my prediction").click()), None)
            toggle = page.get_by_text("Reveal the answer")
            if toggle.count():
                found[f"reveal {step}"] = (timed(page, toggle.click), None)
    page.close()
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--model", default="mnist-2d-sigma0.3")
    args = parser.parse_args()
    state = tempfile.mkdtemp(prefix="learn-steps-")
    env = {"VAE_DATA_DIR": os.environ.get("VAE_DATA_DIR", str(ROOT.parent / "shared" / "datasets")),
           "VAE_STATE_DIR": state}
    results: dict[str, list] = {}
    with streamlit_server(env) as (url, _, _), chromium() as browser:
        for k in range(args.rounds):
            for name, value in round_of(browser, url, args.model, 7 * k + 1).items():
                results.setdefault(name, []).append(value)
    print(f"{args.model}, {args.rounds} rounds (test images {', '.join(str(7 * k + 1) for k in range(args.rounds))}):")
    print(f"{'':12} {'median s':>9} {'worst s':>8}  {'old step gone after, median s':>30} {'worst':>6}")
    for name, values in results.items():
        seconds, gone = [v[0] for v in values], [v[1] for v in values if v[1] is not None]
        print(f"{name:12} {statistics.median(seconds):9.2f} {max(seconds):8.2f}  "
              + (f"{statistics.median(gone):30.2f} {max(gone):6.2f}" if gone else ""))


if __name__ == "__main__":
    main()
