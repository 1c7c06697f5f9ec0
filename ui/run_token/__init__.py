"""This tab's live-run token, kept in the browser's sessionStorage (survives a reload, stays in the tab).

A components-v2 component with no visible part; its one script ships in this folder.
"""
from __future__ import annotations

from pathlib import Path

import streamlit as st

HERE = Path(__file__).parent
_renderer = None


def _component():
    global _renderer
    if _renderer is None:
        _renderer = st.components.v2.component("vae_run_token", js=(HERE / "token.js").read_text())
    return _renderer


def run_token(known: str | None, store: str | None = None) -> str | None:
    """Mount the token keeper. `store` writes a new run's token into the tab; returns the token the tab holds when
    it differs from `known` (the tab was reloaded), else None."""
    # scalars only: Streamlit sniffs lists and dicts given to a component for dataframes (importing pandas)
    result = _component()(data={"known": known or "", "store": store or ""}, key="live_token",
                          default={"token": None}, on_token_change=lambda: None)
    token = getattr(result, "token", None)  # no value at all where no browser runs it (bare mode)
    return token if token and token != known else None
