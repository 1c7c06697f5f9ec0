"""Numbers shown as Streamlit metrics, side by side."""
from __future__ import annotations

import streamlit as st


def row(metrics, container=st) -> None:
    """Metrics (label, value[, help]) side by side, each as wide as its label and value, wrapping onto another line
    where the column is narrow (in st.columns of equal width they were cut: "Reconstruction term (this d…")."""
    with container.container(horizontal=True, gap="large"):
        for label, value, *help_ in metrics:
            st.metric(label, value, help=help_[0] if help_ else None, width="content")
