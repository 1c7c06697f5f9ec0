"""This browser's secret key (ui/browser_key/key.js): made once, kept in localStorage and a cookie.

A components-v2 component with no visible part; its one script ships in this folder.
"""
from __future__ import annotations

from pathlib import Path

import streamlit as st

HERE = Path(__file__).parent
COOKIE = "vae_browser_key"
COOKIE_PATH = "/"  # one cookie for the whole site, whoever writes it (key.js, or serve.py for a new browser)
MAX_AGE = 315360000  # seconds: ten years
_renderer = None


def _component():
    global _renderer
    if _renderer is None:
        _renderer = st.components.v2.component("vae_browser_key", js=(HERE / "key.js").read_text())
    return _renderer


def browser_key(known: bool) -> str | None:
    """Mount the key keeper; returns the key the browser reports: while `known` is False, or when the key the server
    knows (its cookie) is not the one in the browser's localStorage (a cookie proposed by serve.py to a returning
    browser whose cookie was gone). Else None."""
    result = _component()(data={"known": known, "path": COOKIE_PATH, "max_age": MAX_AGE}, key="browser_key",
                          default={"key": None}, on_key_change=lambda: None)
    return getattr(result, "key", None)  # no value at all where no browser runs it (bare mode, AppTest)
