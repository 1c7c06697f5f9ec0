"""A real `streamlit run` on a free port, and Debian's Chromium driven by Playwright (no browser download)."""
from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

from tests.support import ROOT

CHROMIUM = os.environ.get("VAE_CHROMIUM", "/usr/bin/chromium")
# --process-per-site: a context's tabs of one server share a renderer process (tests/support/walk.shared_context).
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--no-first-run", "--process-per-site"]


def needs_chromium() -> None:
    """At the top of a browser test module: skip it, with the reason, where Chromium or Playwright is missing
    (CI, which installs both, fails instead)."""
    import shutil

    import pytest

    if not (shutil.which(CHROMIUM) or os.path.exists(CHROMIUM)) or shutil.which("playwright") is None:
        if os.environ.get("CI"):
            raise RuntimeError(f"CI needs {CHROMIUM} and playwright for the browser tests")
        pytest.skip(f"needs {CHROMIUM} and playwright (see .ci/run)", allow_module_level=True)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def streamlit_server(env: dict | None = None, timeout: float = 60.0, script: str = "serve.py"):
    """Start `streamlit run serve.py` (the README's command; `script="app.py"` for the plain app) on 127.0.0.1;
    yields (url, process, seconds until healthy).

    The server's output (and its training processes', which inherit it) goes to a file, `process.log_path`:
    a pipe nobody reads fills after 64 KB, and then whoever writes next (the server, or a training process
    at start-up) blocks for good.
    """
    port = free_port()
    start = time.perf_counter()
    log = tempfile.NamedTemporaryFile("w+", prefix="streamlit-", suffix=".log", delete=False)
    proc = subprocess.Popen([sys.executable, "-m", "streamlit", "run", script, "--server.port", str(port),
                             "--server.address", "127.0.0.1", "--server.headless", "true"],
                            cwd=ROOT, env=dict(os.environ, VAE_OFFLINE="1", **(env or {})),
                            stdout=log, stderr=subprocess.STDOUT, text=True)
    proc.log_path = Path(log.name)
    url = f"http://127.0.0.1:{port}"
    try:
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"streamlit exited early:\n{proc.log_path.read_text()}")
            try:
                urllib.request.urlopen(url + "/_stcore/health", timeout=1)
                break
            except OSError:
                if time.perf_counter() - start > timeout:
                    raise TimeoutError("streamlit did not become healthy") from None
                time.sleep(0.05)
        yield url, proc, time.perf_counter() - start
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()
        proc.log_path.unlink(missing_ok=True)


@contextlib.contextmanager
def chromium():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()
