"""Shareable state: a page's settings mirrored in the URL's query string, so a link reopens the same view.

Each page calls `restore(page, parsers)` before its widgets and `publish(page, values)` after reading
them. A URL value is applied once, and only if this session has not published or applied it before:
a rerun can carry the address bar of a moment ago (a widget moved twice quickly), and that stale
value must not pull the widget back. A value that does not parse or is out of range is ignored with
a notice naming it. Session keys are `<page>_<name>`.
"""
from __future__ import annotations

import math

import streamlit as st

SEEN = "_url_seen"
SHARED = ("dataset", "model")  # the sidebar's parameters, kept on every page


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


def number(low: float, high: float):
    def parse(text: str) -> float:
        try:
            value = float(text)
        except ValueError:
            raise BadValue(f"expected a number, got {text!r}") from None
        if not math.isfinite(value) or not low <= value <= high:
            raise BadValue(f"{text} is not a finite number in [{low:g}, {high:g}]")
        return value
    return parse


def choice(options):
    """One of `options` (numbers match to 6 significant digits, strings exactly)."""
    def parse(text: str):
        for option in options:
            if isinstance(option, str):
                if text == option:
                    return option
            else:
                try:
                    if math.isclose(float(text), float(option), rel_tol=1e-6):
                        return option
                except ValueError:
                    break
        raise BadValue(f"{text!r} is not one of {', '.join(f'{o:g}' if not isinstance(o, str) else o for o in options)}")
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


def restore(page: str, parsers: dict) -> dict:
    """Apply URL values new to this session to `st.session_state[f"{page}_{name}"]`; returns what was applied."""
    seen = st.session_state.setdefault(SEEN, {})
    applied = {}
    for name, parse in parsers.items():
        text = st.query_params.get(name)
        known = seen.setdefault((page, name), set())
        if text is None or text in known:
            continue
        known.add(text)
        try:
            value = parse(text)
        except BadValue as exc:
            st.toast(f"Ignored `{name}` in the link: {exc}", icon=":material/link_off:")
            continue
        st.session_state[f"{page}_{name}"] = value
        applied[name] = value
    return applied


def publish(page: str, values: dict) -> None:
    """Write the page's current settings into the URL (None removes a parameter), as one URL update.

    A page's publish also drops parameters another page left behind (the sidebar's stay).
    """
    seen = st.session_state.setdefault(SEEN, {})
    current = st.query_params.to_dict()
    wanted = dict(current) if page == "sidebar" else {k: v for k, v in current.items() if k in SHARED}
    for name, value in values.items():
        if value is None:
            wanted.pop(name, None)
        else:
            wanted[name] = _format(value)
            seen.setdefault((page, name), set()).add(wanted[name])
    if wanted != current:
        st.query_params.from_dict(wanted)  # one history entry, not one per parameter
