"""A long monkey run: random user actions in headless Chromium, each followed by the page check.

Starts its own server, runs tests/support/monkey.Monkey for --actions steps and prints the actions per
minute and every failure found. After a failure it reloads the app's root (a fresh session) and goes
on, so one run finds several defects; each is printed with its seed and step. The run is replayable:
the same --seed and --actions take the same steps as long as the app behaves the same.

    VAE_DATA_DIR=../shared/datasets python benchmarks/monkey.py --actions 2000 --seed 7

Exit status 1 when anything failed.
"""
from __future__ import annotations

import argparse
import os
import re
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from tests.support.server import chromium, streamlit_server  # noqa: E402
from tests.support.monkey import Monkey  # noqa: E402
from tests.support.walk import new_session, page_errors, wait_idle  # noqa: E402


def open_root(page, url: str) -> None:
    page.goto(url)
    wait_idle(page, since=0, start_timeout=10, timeout=60)
    page_errors(page).clear()


def kind(failure: str) -> str:
    """A failure's first line without its step and names, to group repeats of one defect."""
    first = re.sub(r"^\[monkey seed=\d+ step \d+\] ", "", failure.splitlines()[0])
    first = re.sub(r"model '[^']+', expected '[^']+' \(on '[^']+'\)", "model A, expected B", first)
    return re.sub(r" Traceback:.*", "", first)[:200]


def server_errors(log: Path) -> list[str]:
    """The last line of each traceback in the server's log (errors the page may not show)."""
    lines = log.read_text(errors="replace").splitlines()
    ends = []
    for i, line in enumerate(lines):
        if line.startswith("Traceback"):
            tail = next((l for l in lines[i + 1:] if l and not l.startswith((" ", "Traceback"))), "")
            ends.append(tail.strip()[:160])
    return ends


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--actions", type=int, default=2000)
    parser.add_argument("--seed", type=int, default=int(time.time()) % 100_000)
    parser.add_argument("--data-dir", default=os.environ.get("VAE_DATA_DIR", ""))
    parser.add_argument("--timeout", type=float, default=30.0, help="seconds an action may keep the app busy")
    args = parser.parse_args()
    env = {"VAE_DATA_DIR": args.data_dir, "VAE_STATE_DIR": tempfile.mkdtemp(prefix="monkey-state-")}
    failures: list[tuple[int, str]] = []
    with streamlit_server(env) as (url, server, _), chromium() as browser, new_session(browser) as page:
        open_root(page, url)
        monkey = Monkey(page, args.seed, timeout=args.timeout)
        start = time.perf_counter()
        while monkey.step < args.actions:
            try:
                monkey.run(1)
            except AssertionError as exc:
                failures.append((monkey.step, str(exc)))
                print(f"FAILURE at step {monkey.step}:\n{exc}\n", flush=True)
                open_root(page, url)  # a fresh session at the app's root; the walk goes on
                monkey.model = None
            if monkey.step % 50 == 0:
                print(f"{monkey.step} actions, {time.perf_counter() - start:.0f} s, {len(failures)} failures",
                      flush=True)
        seconds = time.perf_counter() - start
        logged = server_errors(server.log_path)

    print(f"\n{monkey.step} actions in {seconds:.0f} s: {60 * monkey.step / seconds:.1f} actions per minute "
          f"(seed {args.seed}); per kind, with the wait and check that follow: "
          + ", ".join(f"{name} {monkey.counts[name]} × {monkey.seconds[name] / monkey.counts[name]:.1f} s"
                      for name in sorted(monkey.counts, key=monkey.seconds.get, reverse=True)))
    print(f"{len(failures)} failures" + (":" if failures else "."))
    for step, text in failures:
        print(f"  step {step}: {kind(text)}\n    replay: python benchmarks/monkey.py --seed {args.seed} "
              f"--actions {step}")
    if failures:
        print("by kind:")
        for text, count in Counter(kind(t) for _, t in failures).most_common():
            print(f"  {count:4d} × {text}")
    if monkey.slow:
        print(f"slow steps (behind a spinner, not failures): {len(monkey.slow)}")
        for text in monkey.slow:
            print("  " + text)
    if logged:
        print(f"tracebacks in the server's log: {len(logged)}")
        for text, count in Counter(logged).most_common(10):
            print(f"  {count:4d} × {text}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
