"""Who this session is (classroom.identity): a signed-in person where the server is set up for st.login, else this
browser's key — from its cookie on a session's first run, or from ui/browser_key once the browser reports it.

`current()` is the identity (a hash) or None while the browser has not said; `mount()` runs on every page
(app.py). Tests without a browser set the key in st.session_state[KEY].
"""
from __future__ import annotations

import streamlit as st

from classroom import identity

KEY = "_browser_key"  # this session's browser key, once known
IDENTITY = "_identity"


def _signed_in() -> str | None:
    try:
        user = st.user
        if user.is_logged_in:
            return identity.of_user(str(user.get("sub") or user.get("email")))
    except Exception:  # no authentication configured: st.user has nothing to say
        pass
    return None


def current() -> str | None:
    """This session's identity, or None while it is unknown."""
    state = st.session_state
    person = _signed_in()
    if person:
        return person
    if state.get(IDENTITY) is None:
        key = state.get(KEY)
        if key is None:
            from ui.browser_key import COOKIE

            try:
                key = st.context.cookies.get(COOKIE)
            except Exception:  # bare mode: no request
                key = None
        found = identity.of_browser(key)
        if found:
            state[KEY], state[IDENTITY] = key, found
    return state.get(IDENTITY)


def mount() -> None:
    """app.py, every run, before the sidebar lists models: the key keeper, which reports the key when the server
    does not know it (a new browser's first visit to `streamlit run app.py`; serve.py proposes one with the page,
    and a cookie says it on every later session's first run) or knows another than the browser keeps."""
    from ui.browser_key import browser_key

    known = current() is not None
    with st.sidebar:
        reported = browser_key(known)
    found = identity.of_browser(reported)
    if found and found != st.session_state.get(IDENTITY) and not _signed_in():
        st.session_state[KEY], st.session_state[IDENTITY] = reported, found
