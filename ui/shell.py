"""The app's frame: a page run that did not come through app.py is sent there; garbage collected now and then.

Streamlit remembers, per server process, that a `pages/` folder sits beside app.py, and until the
first `st.navigation` call it serves a deep link (say /elbo on a fresh server) the legacy way: it
runs pages/elbo.py alone, without app.py's page config, navigation and sidebar. `require_app()`
turns that legacy mode off and reruns: the rerun goes through app.py, whose `st.navigation` opens
the same page (the legacy page and the `st.Page` share the url path, hence the page hash), with
the link's query string intact.
"""
from __future__ import annotations

import gc
import threading
import time

import streamlit as st
from streamlit.runtime.pages_manager import PagesManager

GC_EVERY = 30.0  # seconds between the server's full garbage collections (at the end of an app run)
_last_gc = [time.monotonic()]
_gc_lock = threading.Lock()


def require_app() -> None:
    """First call of every page: a legacy `pages/` run (no st.navigation yet in this process) reruns through app.py."""
    if PagesManager.uses_pages_directory:
        PagesManager.uses_pages_directory = False
        st.rerun()


def collect_garbage_now_and_then() -> None:
    """A full garbage collection at most every GC_EVERY seconds per server, at the end of an app run.

    Streamlit collects after every script and fragment run (runner.postScriptGC, turned off in
    .streamlit/config.toml): with PyTorch's and Plotly's objects in the heap that was 23 % of the server's CPU over
    the browser tour and 0.40 of a core while four students trained live (their fragments rerun several times a
    second). Python's own collector still runs; this one frees, within GC_EVERY, what reference cycles keep of
    closed sessions (their objects and threads).
    """
    now = time.monotonic()
    with _gc_lock:
        if now - _last_gc[0] < GC_EVERY:
            return
        _last_gc[0] = now
    gc.collect()
