"""The sidebar every page shares: which model, and what it is."""
from __future__ import annotations

import streamlit as st

from ui import shell, store

MODEL_KEY = "model_name"


def _label(info) -> str:
    c = info.config
    tag = "shipped" if store.is_shipped(info) else "yours"
    return f"{info.name}  ·  {c.latent_dim}-D {c.likelihood}" + (f" σ={c.sigma_dec:g}" if c.likelihood == "gaussian" else "") + f"  ({tag})"


def choose_model():
    """Model picker in the sidebar; returns the chosen CheckpointInfo (None when there is none).

    Every page calls it first, so it also makes sure the run came through app.py (see ui.shell).
    """
    import sys

    shell.require_app(sys._getframe(1).f_code.co_filename)
    infos = store.available_models()
    if not infos:
        st.sidebar.error("No checkpoints found in checkpoints/ or your models folder.")
        return None
    names = [i.name for i in infos]
    if st.session_state.get(MODEL_KEY) not in names:
        st.session_state[MODEL_KEY] = store.DEFAULT_MODEL if store.DEFAULT_MODEL in names else names[0]
    by_name = {i.name: i for i in infos}
    st.sidebar.selectbox("Model", names, key=MODEL_KEY, format_func=lambda n: _label(by_name[n]))
    info = by_name[st.session_state[MODEL_KEY]]
    with st.sidebar.expander("Config", expanded=False):
        # markdown, not st.json / st.code: those load large browser bundles and slow the first screen
        st.markdown("\n".join(f"- **{k}**: `{v}`" for k, v in info.config.to_dict().items()))
        if info.meta.get("command"):
            st.markdown(f"Reproduce with:\n\n`{info.meta['command']}`")
    test = info.metrics.get("test")
    if test:
        st.sidebar.caption(f"Test ELBO {test['elbo']:.1f} · IWAE log p(x) ≥ {test['log_px_iwae']:.1f} nats "
                           f"(K={test['iw_samples']})")
    return info


def data_notice(dataset) -> None:
    """A clear, short notice when the app runs on the shipped sample instead of real data."""
    if dataset.is_sample:
        st.sidebar.warning(f"MNIST was not found on this machine, so the {len(dataset):,} test digits shipped with "
                           "the project are used. Set VAE_DATA_DIR to a folder holding MNIST/raw/ for the full data.")
    elif dataset.notice:
        st.sidebar.info(dataset.notice)
