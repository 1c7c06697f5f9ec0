"""The app's frame: a page run that did not come through app.py is sent there.

Streamlit remembers, per server process, that a `pages/` folder sits beside app.py, and until the
first `st.navigation` call it serves a deep link (say /elbo on a fresh server) the legacy way: it
runs pages/elbo.py alone, without app.py's page config, navigation and sidebar. `require_app()`
turns that legacy mode off and reruns: the rerun goes through app.py, whose `st.navigation` opens
the same page (the legacy page and the `st.Page` share the url path, hence the page hash), with
the link's query string intact.
"""
from __future__ import annotations

import streamlit as st
from streamlit.runtime.pages_manager import PagesManager


def require_app() -> None:
    """First call of every page: a legacy `pages/` run (no st.navigation yet in this process) reruns through app.py."""
    if PagesManager.uses_pages_directory:
        PagesManager.uses_pages_directory = False
        st.rerun()
