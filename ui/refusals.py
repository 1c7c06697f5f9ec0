"""Refusals that stay on screen until their reader dismisses them: kept in the session's state, so that the next run
(a rerun, a fragment's timed run) does not erase a message shown by the one before."""
from __future__ import annotations

import hashlib

import streamlit as st

from classroom import Refused
from ui import text

KEY = "_refusals"


def keep(where: str, message: str) -> None:
    """Keep `message` (plain text) among `where`'s refusals, once, until dismissed."""
    kept = st.session_state.setdefault(KEY, {}).setdefault(where, [])
    if message not in kept:
        kept.append(message)


def attempt(where: str, change, *args) -> bool:
    """`change(*args)`: True when it was done; a refusal (classroom.Refused) kept among `where`'s, and False."""
    try:
        change(*args)
    except Refused as exc:
        keep(where, str(exc))
        return False
    return True


def dismiss(where: str, message: str) -> None:
    kept = st.session_state.get(KEY, {}).get(where, [])
    if message in kept:
        kept.remove(message)


def show(where: str) -> None:
    """`where`'s kept refusals, each as an error with its own Dismiss button."""
    for message in list(st.session_state.get(KEY, {}).get(where, [])):
        digest = hashlib.sha256(message.encode()).hexdigest()[:12]
        row = st.container(horizontal=True, vertical_alignment="center", key=f"refusal_{where}_{digest}")
        row.error(text.plain(message), width="stretch")
        row.button("Dismiss", key=f"dismiss_{where}_{digest}", on_click=dismiss, args=(where, message),
                   help="Hide this message")
