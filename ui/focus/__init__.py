"""Keyboard focus moved on purpose after a rerun (WCAG 2.4.3, focus order): a click that changes what the page shows
(a new step, a revealed answer) reran the script, and the focus stayed on the button, or fell back to the page's
start when the button went away. `move_focus` puts it where the reader's next step is.

    if st.button("Next", key="learn_next", on_click=go_next): ...
    focus.move_focus("learn_step_title")          # a widget's or container's key (its .st-key-<key> element)
    focus.move_focus("[data-testid=stMain] h2")   # or a CSS selector

Call it in the run that should move the focus (the run after the click: in the click's branch, or when a callback
left a flag): the focus moves once, when that run has ended and the page has settled, to the first control inside the
target, else to the target itself (made focusable with tabindex="-1": a heading, a block of text). A components-v2
snippet (no iframe, no visible part; its script is focus.js in this folder): st.html's scripts do not run again when
the same HTML is sent in a later run.
"""
from __future__ import annotations

import re
from pathlib import Path

import streamlit as st

HERE = Path(__file__).parent
NONCE = "_focus_nonce"
_renderer = None


def _component():
    global _renderer
    if _renderer is None:
        _renderer = st.components.v2.component("vae_focus", js=(HERE / "focus.js").read_text())
    return _renderer


def selector_for(target: str) -> str:
    """A widget's or container's key → the CSS class Streamlit gives its element (`.st-key-<key>`); anything else is
    taken as a CSS selector."""
    return f".st-key-{target}" if re.fullmatch(r"[A-Za-z0-9_-]+", target) else target


def move_focus(target: str) -> None:
    """After this run, move the keyboard focus to `target` (a widget's or container's key, or a CSS selector): to
    the first control inside it, else to the element itself. Each call moves the focus once."""
    state = st.session_state
    state[NONCE] = state.get(NONCE, 0) + 1
    _component()(data={"selector": selector_for(target), "nonce": state[NONCE]}, key="vae_focus")
