"""The sidebar, drawn once per run by app.py before the page: which dataset and model the session explores.

The choices are two keyed widgets in the entrypoint, so Streamlit keeps them across page switches,
and they are bound to the URL (`?dataset=…&model=…`), so a link reopens them. A page reads the
choice with `chosen_model()`; a page that changes it (the sweep's "Open in Explore") does so in a
callback, before the sidebar is drawn.
"""
from __future__ import annotations

import streamlit as st

from ui import evaluation, identity, shell, store
from vae.data import DATASETS

MODEL_KEY = "model"
DATASET_KEY = "dataset"
CHOSEN = "_chosen_model"  # the CheckpointInfo of this run's choice (None when there is none)
DATASET_LABELS = {"mnist": "MNIST digits", "fashion-mnist": "Fashion-MNIST clothes"}
# The radio's options are these names: a bound widget writes the option's label into the URL (?dataset=MNIST).
DATASET_NAMES = {"MNIST": "mnist", "Fashion-MNIST": "fashion-mnist"}


def describe(info, owner: str) -> str:
    c = info.config
    return (f"{c.latent_dim}-D latent, {c.likelihood} decoder" + (f" σ={c.sigma_dec:g}" if c.likelihood == "gaussian" else "")
            + f", hidden {list(c.hidden)} ({owner})")


def default_model(dataset: str, names: list[str]) -> str:
    preferred = [n for n in (store.DEFAULT_MODELS.get(dataset), store.DEFAULT_MODEL) if n in names]
    return preferred[0] if preferred else names[0]


def _dataset_name(dataset: str) -> str:
    return next(name for name, key in DATASET_NAMES.items() if key == dataset)


def choose(model: str, dataset: str) -> None:
    """Select `model` (of `dataset`) in the sidebar; call it from a callback, before the sidebar is drawn."""
    st.session_state[DATASET_KEY] = _dataset_name(dataset)
    st.session_state[MODEL_KEY] = model


def draw(locked: bool = False) -> None:
    """The sidebar's dataset and model pickers and the chosen model's card (app.py, every run). `locked`: a link
    fixed the model (both pickers shown, disabled: Streamlit ignores a disabled widget's value from the browser)."""
    state = st.session_state
    st.sidebar.title("VAE Latent Explorer")
    state[CHOSEN] = None
    me = identity.current()
    infos = store.available_models(me)
    if not infos:
        st.sidebar.error("No checkpoints found in checkpoints/ or your models folder.")
        return
    by_name = {i.name: i for i in infos}
    if DATASET_KEY not in state:  # the session's first run: a linked (or preset) model brings its dataset
        linked = by_name.get(st.query_params.get(MODEL_KEY)) or by_name.get(state.get(MODEL_KEY))
        if linked is not None:
            state[DATASET_KEY] = _dataset_name(linked.config.dataset)
    dataset = DATASET_NAMES[st.sidebar.radio("Dataset", list(DATASET_NAMES), horizontal=True, key=DATASET_KEY,
                                             bind="query-params", disabled=locked)]
    names = [i.name for i in infos if i.config.dataset == dataset]
    if not names:
        st.sidebar.error(f"No {DATASET_LABELS[dataset]} models found: train one on the Train page, or run "
                         "scripts/make_checkpoints.sh.")
        return
    default = default_model(dataset, names)
    if state.get(MODEL_KEY, st.query_params.get(MODEL_KEY)) not in names:  # another dataset's, or deleted
        state[MODEL_KEY] = default
    name = st.sidebar.selectbox("Model", names, index=names.index(default), key=MODEL_KEY, bind="query-params",
                                disabled=locked, help="locked by the link" if locked else None)
    info = state[CHOSEN] = by_name[name]
    st.sidebar.caption(describe(info, store.origin(info, me)))
    with st.sidebar.expander("Config", expanded=False):
        # markdown, not st.json / st.code: those load large browser bundles and slow the first screen
        st.markdown("\n".join(f"- **{k}**: `{v}`" for k, v in info.config.to_dict().items()))
        if info.meta.get("command"):
            st.markdown(f"Reproduce with:\n\n`{info.meta['command']}`")
    test = info.metrics.get("test")
    if test:
        st.sidebar.caption(evaluation.card(test, info.config))


def chosen_model(required: bool = True):
    """The model chosen in the sidebar (a CheckpointInfo). Every page calls it first; with `required`, a
    page without a model stops here (the sidebar says why)."""
    shell.require_app()
    info = st.session_state.get(CHOSEN)
    if info is None and required:
        st.stop()
    return info


def models_sigma(key: str, info) -> float:
    """The chosen model's own σ_dec, the nearest of the σ_dec slider's choices: the slider `key` starts there, and is
    put back there when the sidebar's model changes (while it stays, the student's choice holds)."""
    state = st.session_state
    nearest = store.nearest_sigma(info.config.sigma_dec)
    if state.get(f"{key}_for", info.name) != info.name:  # another model: start at its σ
        state[key] = nearest
    state[f"{key}_for"] = info.name
    return nearest


def chosen_dataset() -> str:
    """The dataset chosen in the sidebar, as vae.data names it ("mnist", "fashion-mnist")."""
    return DATASET_NAMES.get(st.session_state.get(DATASET_KEY), "mnist")


def data_notice(dataset) -> None:
    """A clear, short notice when the app runs on the shipped sample instead of real data (and why)."""
    if dataset.is_sample:
        folder = DATASETS[dataset.name].folder
        st.sidebar.warning(f"{DATASET_LABELS[dataset.name]} were not found on this machine, so the {len(dataset):,} "
                           f"test images shipped with the project are used. Set VAE_DATA_DIR to a folder holding "
                           f"{folder}/raw/ for the full data.")
    elif dataset.notice:
        st.sidebar.caption(f"{DATASETS[dataset.name].title}: all {len(dataset):,} test images, from another folder "
                           "than the one configured.")
    if dataset.notice:
        with st.sidebar.expander("Where the data came from"):
            st.caption(breakable(dataset.notice))


def breakable(text: str) -> str:
    """`text` with a zero-width space after each '/', so a long path wraps at its slashes, not inside a word."""
    return text.replace("/", "/\u200b")
