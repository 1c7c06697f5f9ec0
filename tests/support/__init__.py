"""What the tests and the benchmarks share (never a test module imported as a library):

- app.py      AppTest sessions: open a page as a browser would, read a metric, keep a model
- cli.py      `python -m vae ...` as a user runs it
- server.py   a real `streamlit run` on a free port, and Debian's Chromium under Playwright
- walk.py     a browser tab as a user drives it: wait until Streamlit is idle, navigate, choose, check
- monkey.py   a seeded random user built on walk.py
- pixels.py   screenshots as grey arrays, patches and their likeness to the decoder's image
- figure_lint.py  what makes a figure unreadable, read off the page (cut words, overlaps, console errors)
- databases.py    a fresh SQLite or PostgreSQL class store
"""
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]



def shipped(name: str):
    """The shipped model `name` (checkpoints/NAME.safetensors)."""
    from vae import checkpoint

    return checkpoint.load(ROOT / "checkpoints" / f"{name}.safetensors").model


def eventually(condition, timeout: float = 30.0, every: float = 0.05):
    """Poll `condition()` until it is truthy (its value) or `timeout` seconds pass (its last, falsy value)."""
    import time

    end = time.monotonic() + timeout
    while True:
        value = condition()
        if value or time.monotonic() > end:
            return value
        time.sleep(every)
