"""The link: what the URL's query string holds beyond the widgets Streamlit binds to it itself.

Widget-backed settings use `bind="query-params"` (the key is the parameter's name). This module
keeps the rest: state that no widget holds (Explore's selected point and z), read from a link once
per page and session, written back as it changes; and `notice_ignored`, which names a bound value
of a link that Streamlit dropped because it did not parse or was out of range.
"""
from __future__ import annotations

import math

import streamlit as st

LINK = "_link_params"  # the query string this session was opened with
READ = "_link_read"  # pages whose link state has been read


class BadValue(ValueError):
    pass


def integer(low: int, high: int):
    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise BadValue(f"expected a whole number, got {text!r}") from None
        if not low <= value <= high:
            raise BadValue(f"{value} is outside {low}–{high}")
        return value
    return parse


def vector(length: int, low: float, high: float):
    """`length` comma-separated finite numbers, each clipped to [low, high]."""
    def parse(text: str) -> list[float]:
        parts = text.split(",")
        if len(parts) != length:
            raise BadValue(f"expected {length} comma-separated numbers, got {len(parts)}")
        try:
            values = [float(p) for p in parts]
        except ValueError:
            raise BadValue(f"expected numbers, got {text!r}") from None
        if not all(math.isfinite(v) for v in values):
            raise BadValue("NaN or infinite values are not allowed")
        return [min(max(v, low), high) for v in values]
    return parse


def _format(value) -> str:
    if isinstance(value, float):
        return f"{value:.6g}"
    if isinstance(value, (list, tuple)):
        return ",".join(_format(float(v)) for v in value)
    return str(value)


def remember_link() -> None:
    """app.py, every run: keep the query string the session was opened with (for `notice_ignored`)."""
    if LINK not in st.session_state:
        st.session_state[LINK] = st.query_params.to_dict()


def read_link(page: str, parsers: dict) -> dict:
    """The page's own link values, parsed, on its first run in this session ({} afterwards)."""
    read = st.session_state.setdefault(READ, set())
    if page in read:
        return {}
    read.add(page)
    values = {}
    for name, parse in parsers.items():
        text = st.query_params.get(name)
        if text is None:
            continue
        try:
            values[name] = parse(text)
        except BadValue as exc:
            st.toast(f"Ignored `{name}` in the link: {exc}", icon=":material/link_off:")
    return values


def publish(values: dict) -> None:
    """Write state that no widget holds into the URL (None removes a parameter)."""
    for name, value in values.items():
        text = None if value is None else _format(value)
        if st.query_params.get(name) != text:
            if text is None:
                del st.query_params[name]
            else:
                st.query_params[name] = text


def _agrees(text: str, value) -> bool:
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        try:
            return math.isclose(float(text), float(value), rel_tol=1e-6)
        except ValueError:
            return False
    return str(value) == text


def notice_ignored(bound_keys) -> None:
    """After the first page run of a session: a toast for each bound link value the widget did not take."""
    link = st.session_state.get(LINK) or {}
    for name in bound_keys:
        if name in link and name in st.session_state and not _agrees(link[name], st.session_state[name]):
            st.toast(f"Ignored `{name}={link[name][:40]}` in the link: not one of the choices, or out of range",
                     icon=":material/link_off:")
    st.session_state[LINK] = {}
