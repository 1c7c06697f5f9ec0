"""Steps per second of live training in the browser vs the CLI trainer, same config, in one run.

The machine's speed drifts (on 2026-11-30 it swung between ~200 and ~320 steps/s every 15–30 s), so the two are
measured in short alternating windows, (a) (b) (a) (b) … (a), and each (b) is set against the mean of the (a) on
either side of it (a steady drift cancels):
(a) the CLI's engine: `vae.train.Trainer.run` on this process's main thread (what `python -m vae
    train` runs), 2-D Gaussian VAE, hidden 256, batch 128, all 60,000 digits (the Train page's
    defaults), while the browser's run is paused;
(b) the app: `streamlit run`, Debian's Chromium on the Train page, the same model created with the
    page's defaults and playing; the step counter is read over the window. Chromium draws the live
    charts on the same two cores, so (b) pays for everything a user's session costs.
Target: the UI costs at most 10 % (the median of the rounds' ratios ≥ 0.90).

With --browser-core, Chromium (and Playwright's driver) run on the last core and everything else (the server,
its training process, the CLI's engine) on the first, one thread each: what the UI costs the server that trains,
with the browser on a machine of its own, as a class's students' browsers are. The training then has one core.

    VAE_DATA_DIR=../shared/datasets python benchmarks/live_training.py [--rounds 16 --seconds 4] [--browser-core]
"""
from __future__ import annotations

import argparse
import contextlib
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from tests.support.server import chromium, streamlit_server  # noqa: E402
from tests.support.walk import step_count, wait_for_steps_beyond, wait_idle, watch  # noqa: E402
from playwright.sync_api import expect  # noqa: E402


@contextlib.contextmanager
def on_cores(cores: set[int] | None):
    """This thread runs on `cores` inside the block: what it starts there (a process, a thread) keeps them."""
    if cores is None:
        yield
        return
    before = os.sched_getaffinity(0)
    os.sched_setaffinity(0, cores)
    try:
        yield
    finally:
        os.sched_setaffinity(0, before)


def cli_window(trainer, seconds: float) -> float:
    start, steps = time.perf_counter(), 0
    while time.perf_counter() - start < seconds:
        steps += trainer.run(25).steps
    return steps / (time.perf_counter() - start)


def fresh_step_count(page) -> tuple[int, float]:
    """(steps, time) as the panel shows a new count: it is redrawn every REFRESH_PLAYING (2 s) while training, so a
    count read at any moment is up to 2 s old (±13 % of a 15-s window; in 3-s windows the app read 1.2× the CLI).
    Read every 50 ms (±0.6 % of a 4-s window): polling every 20 ms cost the renderer 0.015 of a core, which the
    window charged to the app."""
    steps = wait_for_steps_beyond(page, step_count(page), timeout=30, polling=50)
    return steps, time.perf_counter()


def browser_window(page, seconds: float, warmup: float) -> float:
    page.get_by_role("radio", name="Play", exact=True).click()
    expect(page.get_by_role("button", name="Step", exact=True)).to_be_disabled(timeout=60_000)  # playing
    time.sleep(warmup)
    s0, t0 = fresh_step_count(page)
    time.sleep(seconds)
    s1, t1 = fresh_step_count(page)
    page.get_by_role("radio", name="Pause", exact=True).click()
    expect(page.get_by_role("button", name="Step", exact=True)).to_be_enabled(timeout=60_000)  # paused
    time.sleep(1.5)  # the last slice lands before (a) starts
    return (s1 - s0) / (t1 - t0)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", default=os.environ.get("VAE_DATA_DIR"))
    parser.add_argument("--rounds", type=int, default=16)
    parser.add_argument("--seconds", type=float, default=4.0,
                        help="length of each measuring window (the app's: to the next count the panel shows after it)")
    parser.add_argument("--warmup", type=float, default=1.5)
    parser.add_argument("--browser-core", action="store_true",
                        help="Chromium on the last core, the server and both trainers on the first (see above)")
    args = parser.parse_args()
    if not args.data_dir:
        sys.exit("set VAE_DATA_DIR or pass --data-dir (a folder holding MNIST/raw/)")
    cores = sorted(os.sched_getaffinity(0))
    server_cores, browser_cores = ({cores[0]}, {cores[-1]}) if args.browser_core else (None, None)
    if args.browser_core:  # before torch starts its threads: one per core it may use
        if len(cores) < 2:
            sys.exit("--browser-core needs two cores")
        os.sched_setaffinity(0, server_cores)
    from vae import VAEConfig
    from vae.data import load_dataset
    from vae.train import Trainer

    trainer = Trainer(VAEConfig(latent_dim=2, hidden=(256,), sigma_dec=0.3, batch_size=128, lr=1e-3, seed=0),
                      load_dataset("mnist", "train", args.data_dir, download=False, fallback=False).to_float(), "cpu")
    trainer.run(50)
    env = {"VAE_DATA_DIR": args.data_dir, "VAE_STATE_DIR": tempfile.mkdtemp(prefix="vae-state-")}
    cli, ui = [], []
    with contextlib.ExitStack() as stack:
        url, _, _ = stack.enter_context(streamlit_server(env))  # on this thread's cores, with its trainers
        with on_cores(browser_cores):  # Playwright's driver starts here, and Chromium from it
            browser = stack.enter_context(chromium())
        page = browser.new_page(viewport={"width": 1500, "height": 1100})
        page.set_default_timeout(120_000)
        watch(page)
        page.goto(url + "/train")
        wait_idle(page, since=0, start_timeout=10, timeout=120)  # a click while the first runs draw can be lost
        page.get_by_role("button", name="Create model").click()  # the defaults: 2-D, hidden 256, σ 0.3, all digits
        page.get_by_role("radio", name="Play", exact=True).wait_for()
        cli.append(cli_window(trainer, args.seconds))
        for r in range(1, args.rounds + 1):
            ui.append(browser_window(page, args.seconds, args.warmup))
            cli.append(cli_window(trainer, args.seconds))
            print(f"round {r}: (b) live in Chromium {ui[-1]:5.0f} steps/s between (a) CLI trainer {cli[-2]:5.0f} "
                  f"and {cli[-1]:5.0f} steps/s: {ui[-1] / ((cli[-2] + cli[-1]) / 2):.2f}")
    a, b = statistics.median(cli), statistics.median(ui)
    paired = statistics.median(u / ((before + after) / 2) for before, u, after in zip(cli, ui, cli[1:]))
    print(f"median: (a) {a:.0f} steps/s, (b) {b:.0f} steps/s; ratio (b)/(a) {b / a:.2f}; the median of the rounds' "
          f"own ratios {paired:.2f} (each (b) against the mean of the (a) before and after it: the machine's drift "
          f"cancels) -> the UI costs {1 - paired:.0%} (target: <= 10 %)")


if __name__ == "__main__":
    main()
