"""The sidebar every page shares: which model, and what it is."""
from __future__ import annotations

import streamlit as st

from ui import shell, store, url_state
from vae.data import DATASETS

# The session's choices live in plain session-state keys (a page may set them: the sweep's "Open").
# Their widgets are keyed by the current choice: Streamlit drops or resets a widget's own state when
# the user moves to another page, and a widget made afresh for each choice starts from it instead.
MODEL_KEY = "model_name"
DATASET_KEY = "dataset_name"
DATASET_LABELS = {"mnist": "MNIST digits", "fashion-mnist": "Fashion-MNIST clothes"}


def _label(info) -> str:
    c = info.config
    tag = store.origin(info)
    return f"{info.name}  ·  {c.latent_dim}-D {c.likelihood}" + (f" σ={c.sigma_dec:g}" if c.likelihood == "gaussian" else "") + f"  ({tag})"


def choose_model():
    """Model picker in the sidebar; returns the chosen CheckpointInfo (None when there is none).

    Every page calls it first, so it also makes sure the run came through app.py (see ui.shell).
    """
    import sys

    shell.require_app(sys._getframe(1).f_code.co_filename)
    state = st.session_state
    all_infos = store.available_models()
    if not all_infos:
        st.sidebar.error("No checkpoints found in checkpoints/ or your models folder.")
        return None
    by_name = {i.name: i for i in all_infos}
    applied = url_state.restore("sidebar", {"dataset": url_state.choice(list(DATASETS)),
                                            "model": url_state.choice(list(by_name))})
    if "model" in applied:  # a linked model brings its dataset along
        state[MODEL_KEY] = applied["model"]
        state[DATASET_KEY] = by_name[applied["model"]].config.dataset
    elif "dataset" in applied:
        state[DATASET_KEY] = applied["dataset"]
    if state.get(DATASET_KEY) not in DATASETS:  # a first run: a model chosen before (or none) sets the dataset
        state[DATASET_KEY] = by_name[state[MODEL_KEY]].config.dataset if state.get(MODEL_KEY) in by_name else "mnist"
    options = list(DATASETS)
    dataset = state[DATASET_KEY] = st.sidebar.radio(
        "Dataset", options, index=options.index(state[DATASET_KEY]), format_func=DATASET_LABELS.get,
        horizontal=True, key=f"dataset_select:{state[DATASET_KEY]}")
    infos = [i for i in all_infos if i.config.dataset == dataset]
    if not infos:
        st.sidebar.error(f"No {DATASET_LABELS[dataset]} models found: train one on the Train page, or run "
                         "scripts/make_checkpoints.sh.")
        url_state.publish("sidebar", {"dataset": dataset, "model": None})
        return None
    names = [i.name for i in infos]
    if state.get(MODEL_KEY) not in names:
        defaults = [n for n in (store.DEFAULT_MODEL, store.DEFAULT_MODELS.get(dataset)) if n in names]
        state[MODEL_KEY] = defaults[0] if defaults else names[0]
    state[MODEL_KEY] = st.sidebar.selectbox("Model", names, index=names.index(state[MODEL_KEY]),
                                            format_func=lambda n: _label(by_name[n]), key=f"model_select:{state[MODEL_KEY]}")
    info = by_name[state[MODEL_KEY]]
    url_state.publish("sidebar", {"dataset": dataset, "model": info.name})
    with st.sidebar.expander("Config", expanded=False):
        # markdown, not st.json / st.code: those load large browser bundles and slow the first screen
        st.markdown("\n".join(f"- **{k}**: `{v}`" for k, v in info.config.to_dict().items()))
        if info.meta.get("command"):
            st.markdown(f"Reproduce with:\n\n`{info.meta['command']}`")
    test = info.metrics.get("test")
    if test:
        st.sidebar.caption(f"Test ELBO {test['elbo']:.1f} · IWAE log p(x) ≥ {test['log_px_iwae']:.1f} nats "
                           f"(K={test['iw_samples']:,})")
    return info


def data_notice(dataset) -> None:
    """A clear, short notice when the app runs on the shipped sample instead of real data (and why)."""
    if dataset.is_sample:
        folder = DATASETS[dataset.name].folder
        st.sidebar.warning(f"{DATASET_LABELS[dataset.name]} were not found on this machine, so the {len(dataset):,} "
                           f"test images shipped with the project are used. Set VAE_DATA_DIR to a folder holding "
                           f"{folder}/raw/ for the full data.")
        if dataset.notice:
            with st.sidebar.expander("What was tried"):
                st.caption(dataset.notice)
    elif dataset.notice:
        st.sidebar.info(dataset.notice)
