"""Seconds from `streamlit run serve.py` to the latent scatter drawn in Chromium (target ≤ 1.25× a bare page).

Each round starts a fresh server (the browser is already open, as a user's is) and times from
the launch until the scatter's WebGL canvas is on screen, by the page's own clock (and, printed beside it, when
Playwright saw it, looking on every frame: its look shares the page's busy main thread), opened at /explore
(`--path`; the app's root is the Learn page) with serve.py, the README's command (`--script app.py` for the plain app). For scale, the same run
times a bare Streamlit page holding one tiny Plotly chart (the floor of Streamlit + Plotly on this machine)
and `import torch` alone, which the Explore page never does: its decoder runs in numpy.

    VAE_DATA_DIR=../shared/datasets python benchmarks/app_startup.py [--rounds 3] [--script app.py]
"""
from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from tests.support.server import chromium, free_port  # noqa: E402
from tests.support.walk import SCATTER  # noqa: E402

BARE_APP = """import plotly.graph_objects as go
import streamlit as st
st.header("bare")
st.plotly_chart(go.Figure(go.Scattergl(x=[1, 2, 3], y=[1, 3, 2], mode="markers")), on_select="rerun")
"""


# When the scatter's canvas first has a size, by the page's own clock (epoch ms): Playwright's look runs in the same
# busy main thread, after the task that drew it.
PAINTED_AT_JS = """(() => { const look = () => { const c = document.querySelector('.js-plotly-plot canvas');
  const r = c && c.getBoundingClientRect();
  if (r && r.width > 0 && r.height > 0) window.__scatterAt = performance.timeOrigin + performance.now();
  else requestAnimationFrame(look); }; requestAnimationFrame(look); })()"""


# What Playwright waits for: a scatter element with a box, looked for on every frame. (wait_for_selector looks with a
# back-off, 0, 20, 50, 100, 100, then every 500 ms: a ruler with half-second marks on a 3-second start, which read
# the app 1.35-1.44x the bare page from one run to the next.)
SEEN_JS = """(selector) => [...document.querySelectorAll(selector)].some(e => {
  const r = e.getBoundingClientRect(); return r.width > 0 && r.height > 0; })"""


def time_to_scatter(browser, app: Path, env: dict, path: str = "") -> tuple[float, float, float]:
    """(seconds until the server answers, until the scatter's canvas is on screen by the page's clock, until
    Playwright saw it), all from the launch."""
    port = free_port()
    page = browser.new_page(viewport={"width": 1500, "height": 1100})
    page.add_init_script(PAINTED_AT_JS)
    epoch, start = time.time(), time.perf_counter()
    server = subprocess.Popen([sys.executable, "-m", "streamlit", "run", str(app), "--server.port", str(port),
                               "--server.address", "127.0.0.1", "--server.headless", "true"], cwd=app.parent,
                              env=dict(os.environ, VAE_OFFLINE="1", **env), stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL)
    try:
        while True:
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/_stcore/health", timeout=1)
                break
            except OSError:
                time.sleep(0.02)
        healthy = time.perf_counter() - start
        page.goto(f"http://127.0.0.1:{port}/{path}")
        page.wait_for_function(SEEN_JS, arg=SCATTER, polling="raf", timeout=60_000)
        seen = time.perf_counter() - start
        painted = page.evaluate("() => window.__scatterAt") / 1000 - epoch
        return healthy, painted, seen
    finally:
        page.close()
        server.terminate()
        server.wait(timeout=10)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", default=os.environ.get("VAE_DATA_DIR", ""))
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--path", default="explore", help="the page opened (its link)")
    parser.add_argument("--script", default="serve.py", help="serve.py (the README's command), or app.py")
    args = parser.parse_args()
    env = {"VAE_DATA_DIR": args.data_dir, "VAE_STATE_DIR": tempfile.mkdtemp(prefix="vae-state-")}
    bare_dir = Path(tempfile.mkdtemp())
    (bare_dir / "bare.py").write_text(BARE_APP)
    start = time.perf_counter()
    subprocess.run([sys.executable, "-c", "import torch"], check=True)
    torch_seconds = time.perf_counter() - start
    app_times, bare_times, seen_ratios = [], [], []
    with chromium() as browser:
        for r in range(1, args.rounds + 1):
            healthy, drawn, seen = time_to_scatter(browser, ROOT / args.script, env, args.path)
            _, bare, bare_seen = time_to_scatter(browser, bare_dir / "bare.py", {})
            app_times.append(drawn)
            bare_times.append(bare)
            seen_ratios.append(seen / bare_seen)
            print(f"round {r}: app scatter drawn {drawn:.2f} s (server up at {healthy:.2f} s; Playwright saw it at "
                  f"{seen:.2f} s)   bare Streamlit + Plotly page {bare:.2f} s (seen {bare_seen:.2f} s)")
    app, bare = statistics.median(app_times), statistics.median(bare_times)
    print(f"as Playwright saw the canvases: app / bare {statistics.median(seen_ratios):.2f}x (median of the rounds)")
    print(f"`python -c 'import torch'` alone: {torch_seconds:.2f} s (the Explore page does not import torch)")
    ratios = [a / b for a, b in zip(app_times, bare_times)]
    print(f"median: app {app:.2f} s (target <= 4 s), bare page {bare:.2f} s; the app's own cost above the "
          f"floor: {app - bare:.2f} s")
    print(f"app / bare page: {app / bare:.2f}x (medians), rounds {', '.join(f'{r:.2f}' for r in ratios)} "
          f"(target <= 1.25x)")


if __name__ == "__main__":
    main()
