"""The latent pad: a Streamlit components-v2 component that decodes in the browser while you drag.

Its assets (decoder.js, pad.js, pad.css) ship here and are inlined: nothing comes from a CDN.
The decoder's weights travel once per model and session as base64 float32; the browser runs the
MLP (decoder.js) on every animation frame of a drag, and sends the final z back on release.
"""
from __future__ import annotations

import base64
import json
from pathlib import Path

import numpy as np
import streamlit as st

HERE = Path(__file__).parent
REQUESTED = "requested"
_renderer = None


def _component():
    global _renderer
    if _renderer is None:
        js = (HERE / "decoder.js").read_text() + "\n" + (HERE / "pad.js").read_text()
        _renderer = st.components.v2.component("vae_latent_pad", js=js, css=(HERE / "pad.css").read_text())
    return _renderer


def b64(array: np.ndarray, dtype) -> str:
    return base64.b64encode(np.ascontiguousarray(array, dtype=dtype).tobytes()).decode()


def payload(decoder, means: np.ndarray, labels: np.ndarray) -> dict:
    """What the browser needs once per model: the decoder's layers and the test-set means."""
    return {"layers": [{"inputs": int(w.shape[1]), "outputs": int(w.shape[0]), "weight": b64(w, "<f4"),
                        "bias": b64(b, "<f4")} for w, b in decoder.layers],
            "means": b64(means, "<f4"), "labels": b64(labels, np.uint8)}


def latent_pad(model_id: str, decoder, means, labels, dims, ranges, z, key: str, on_release=None,
               family: str | None = None):
    """Mount the pad; `on_release()` runs once per release (st.session_state[key]["z"] holds the z then).
    Returns the z of the last release (a list) or None.

    `family`: models of one family (a live run's decoder at each step) are sent as soon as they change, without
    waiting for the browser to ask, and keep the student's z and drag from one to the next."""
    sent_key = f"{key}_weights_sent"

    def resend():  # the browser has no weights for this model (a new tab, a new model): send them next run
        st.session_state[sent_key] = REQUESTED

    # Weights go out only when the browser asks (need_weights): the page's first run carries no megabyte of
    # them, so the scatter above draws first; the pad follows one short rerun later.
    sent = st.session_state.get(sent_key)
    send = sent == REQUESTED or (family is not None and sent != model_id)
    data = {"model": model_id, "family": family or model_id, "latent_dim": int(len(z)), "dims": [int(d) for d in dims],
            "ranges": [[float(a), float(b)] for a, b in ranges], "z": [float(v) for v in z],
            "image_shape": list(decoder.image_shape[-2:]),
            "payload": payload(decoder, means, labels) if send else None}
    # One JSON string: Streamlit inspects each list or dict it is given for dataframes, which imports pandas
    # (0.4 s of a cold start); a string it passes as it is.
    result = _component()(data={"json": json.dumps(data)}, key=key, default={"z": None}, on_z_change=on_release or (lambda: None),
                          on_need_weights_change=resend)
    if send:
        st.session_state[sent_key] = model_id
    return result.z
