"""The app's frame: pages, and the guard that sends every page run through app.py.

Streamlit remembers, per server process, that a `pages/` folder exists, and until the first
`st.navigation` call it treats a deep link (say /train) the legacy way: it runs pages/train.py
alone, without app.py's page config and navigation. `require_app()` notices such a run and
reroutes it through app.py, which then opens the page that was asked for.
"""
from __future__ import annotations

from pathlib import Path

import streamlit as st

APP_MARK = "_app_shell_run"
DEEP_LINK = "_app_deep_link"


def mark_app_run() -> None:
    """Called by app.py on every run, before the page runs."""
    st.session_state[APP_MARK] = True


def require_app(page_file: str) -> None:
    """First call of every page: a run that did not come through app.py goes there, remembering the page."""
    if st.session_state.get(APP_MARK):
        return
    params = st.query_params.to_dict()  # a shared link's settings travel along (switch_page would drop them)
    st.session_state[DEEP_LINK] = (Path(page_file).stem, params)
    st.switch_page("app.py", query_params=params)


def resume_deep_link(pages) -> None:
    """In app.py, after st.navigation: open the page a rerouted deep link asked for."""
    name, params = st.session_state.pop(DEEP_LINK, (None, {}))
    for page in pages:
        if name and page.url_path == name:
            st.switch_page(page, query_params=params)
