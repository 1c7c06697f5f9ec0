"""A request a click leaves in session state for a later run to carry out (Submit to the class, Save): the slow work
runs in the page's run, not in the click's callback, with its progress bar.

A rerun that cuts the work short (another click: Streamlit restarts the script, and a button's one-off True would be
gone) leaves the request for the next run, which does the work again; nothing is lost. Done, or failed with an
unexpected error (shown once), the request is dropped: a failure is not retried on every later run.
"""
from __future__ import annotations

from contextlib import contextmanager

import streamlit as st


@contextmanager
def carried_out(key: str, then=lambda: None):
    """`with carried_out(key): work()` — st.session_state[key] (the request) is dropped, and `then()` called, once the
    work is done or has raised an Exception; a rerun (Streamlit's RerunException, no Exception) keeps both for the
    next run."""
    try:
        yield st.session_state[key]
    except Exception:
        st.session_state.pop(key, None)
        then()
        raise
    st.session_state.pop(key, None)
    then()
