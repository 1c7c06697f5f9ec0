"""Links a teacher hands out: "Share this view" on every page, and what such a link may ask of the view.

A link holds every setting of the page (defaults too), the sidebar's dataset and model, and the drawing when the
page shows one. Three options: lesson mode (`view=lesson`: no navigation, no sidebar), a locked model
(`lock=model`) and hidden controls (`hide=elbo_sigma,elbo_unit`). A locked or hidden control keeps the value the
link gave it: after the page's first run in the session its value is remembered, and every later run sets it
back before the page draws, so nothing done in the browser (the page edited included) changes it.
"""
from __future__ import annotations

import base64
import math
from dataclasses import dataclass, field

import numpy as np
import streamlit as st

SIDEBAR = {"dataset": "the data set: MNIST or Fashion-MNIST", "model": "the model's name"}
# Each page's parameters (the widget keys bound to the URL, and state the page publishes itself), in the order a
# link lists them, with what each sets. The README's table of parameters is this dictionary.
PARAMETERS: dict[str, dict[str, str]] = {
    "learn": {"learn_step": "the step of the path, 1–10", "learn_index": "the test image",
              "learn_sigma": "σ_dec of the decoder step", "learn_l": "L, samples of z (step 2)", "learn_tau": "temperature τ"},
    "explore": {"explore_projection": "PCA or t-SNE (d > 2)", "explore_grid_n": "the manifold grid's size",
                "explore_pad_x": "the pad's horizontal dimension (d > 2)",
                "explore_pad_y": "the pad's vertical dimension (d > 2)", "index": "the selected test image",
                "z": "the decoded z, comma-separated"},
    "interpolate": {"interp_projection": "PCA or t-SNE (d > 2)", "interp_a": "image A", "interp_b": "image B",
                    "interp_steps": "steps of the path"},
    "generate": {"generate_projection": "PCA or t-SNE (d > 2)", "generate_tau": "temperature τ",
                 "generate_seed": "seed", "generate_show": "mean image or a draw", "generate_index": "the image whose "
                 "μ holds the other dimensions (traversals)"},
    "elbo": {"elbo_mode": "σ_dec changed alone, or a model trained at each σ_dec", "elbo_sigma": "σ_dec",
             "elbo_index": "the test image", "elbo_unit": "nats or bits per dim",
             "elbo_sweep_sigma": "the sweep member (second mode)"},
    "reparameterisation": {"sampling_projection": "PCA or t-SNE (d > 2)", "sampling_index": "the test image",
                           "sampling_l": "L, samples of ε", "sampling_seed": "the seed of ε", "drawing": "your drawing"},
    "posterior": {"posterior_sigma": "σ_dec", "posterior_index": "the test image"},
    "rate_distortion": {"sweep_sweep": "the sweep", "sweep_member": "the chosen member"},
    "draw": {"draw_projection": "PCA or t-SNE (d > 2)", "drawing": "the drawing"},
    "train": {"train_latent": "latent dimensions", "train_hidden": "hidden widths", "train_likelihood": "decoder",
              "train_sigma": "σ_dec", "train_lr": "learning rate", "train_beta": "β", "train_batch": "batch size",
              "train_seed": "seed"},
    "models": {},
    "class": {"class": "a class's code (its board)", "join": "a class's code (to join it)"},
    "lesson": {"lesson": "a lesson's code", "lesson_step": "its step, 1…"},
}
FORMATTERS = {"explore_pad_x": lambda i: f"z{int(i) + 1}", "explore_pad_y": lambda i: f"z{int(i) + 1}"}
OPTIONS = "_share_options"  # this session's link options, read on its first run
FIXED = "_share_fixed"  # key → the value a locked or hidden control keeps
DRAWING = "draw_framed"  # the Draw page's framed drawing, [28, 28] floats in [0, 1]
LINKED_DRAWING = "draw_from_link"  # the drawing came with the link (the canvas is empty until the student draws)


@dataclass
class LinkOptions:
    lesson: bool = False
    lock_model: bool = False
    hidden: set[str] = field(default_factory=set)

    @property
    def fixed(self) -> set[str]:
        """The keys whose values stay as the link gave them."""
        return set(self.hidden) | ({"dataset", "model"} if self.lock_model else set())


def options() -> LinkOptions:
    """This session's link options (`view=lesson`, `lock=model`, `hide=…`), read once, on its first run."""
    state = st.session_state
    if OPTIONS not in state:
        params = st.query_params
        known = {key for keys in PARAMETERS.values() for key in keys}
        hidden = {k for k in params.get("hide", "").split(",") if k in known}
        state[OPTIONS] = LinkOptions(params.get("view") == "lesson", params.get("lock") == "model", hidden)
        if "drawing" in params:  # a drawing travels with its link, framed 28×28 as the Draw page made it
            drawing = decode_drawing(params["drawing"])
            if drawing is None:
                st.toast("Ignored `drawing` in the link: not a 28×28 drawing", icon=":material/link_off:")
            else:
                state[DRAWING], state[LINKED_DRAWING] = drawing, True
    return state[OPTIONS]


def hold_fixed() -> None:
    """app.py, before the sidebar and the page: each locked or hidden control back to the value its link gave
    it, and the hidden ones out of sight (with their labels)."""
    link = options()
    state = st.session_state
    for key, value in state.get(FIXED, {}).items():
        state[key] = value
    rules = [f".st-key-{key}" for key in sorted(link.hidden)]
    if link.lesson:
        rules += ["[data-testid=stSidebar]", "[data-testid=stSidebarCollapsedControl]", "[data-testid=stExpandSidebarButton]"]
    if rules:
        st.html(f"<style>{', '.join(rules)} {{ display: none !important; }}</style>")


def remember_fixed() -> None:
    """app.py, after the page: the values the link gave to locked and hidden controls, once each was drawn."""
    state = st.session_state
    fixed = state.setdefault(FIXED, {})
    for key in options().fixed:
        if key not in fixed and key in state:
            fixed[key] = state[key]


def _text(key: str, value) -> str | None:
    if value is None:
        return None
    if key in FORMATTERS:
        return FORMATTERS[key](value)
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return f"{value:.6g}" if math.isfinite(value) else None
    if isinstance(value, (list, tuple)):
        return ",".join(f"{float(v):.6g}" for v in value)
    return str(value)


def encode_drawing(drawing) -> str:
    """A 28×28 drawing as URL-safe base64 of its grey levels (784 bytes → 1,045 characters)."""
    return base64.urlsafe_b64encode(np.clip(np.asarray(drawing) * 255, 0, 255).round().astype(np.uint8).tobytes()).decode()


def decode_drawing(text: str) -> np.ndarray | None:
    """The drawing a link carries, or None when the text is not one."""
    try:
        raw = base64.urlsafe_b64decode(text.encode())
    except (ValueError, TypeError):
        return None
    if len(raw) != 784:
        return None
    return np.frombuffer(raw, dtype=np.uint8).reshape(28, 28).astype(np.float32) / 255.0


def current_values(page: str) -> dict[str, str]:
    """Every setting of `page` as a link gives it: the URL's own value where the URL has one, else the session's
    (a default the URL leaves out), and the sidebar's choices."""
    state, params, values = st.session_state, st.query_params, {}
    for key in [*SIDEBAR, *PARAMETERS.get(page, {})]:
        if key == "drawing":
            if state.get(DRAWING) is not None:
                values[key] = encode_drawing(state[DRAWING])
            continue
        text = params.get(key)
        if text is None and key in state:
            text = _text(key, state[key])
        if text is not None:
            values[key] = text
    return values


def link(base: str, page: str, values: dict[str, str], lesson: bool = False, lock_model: bool = False,
         hidden=()) -> str:
    """The address of `page` on `base` with `values` and the options."""
    from urllib.parse import urlencode

    query = dict(values)
    if lesson:
        query["view"] = "lesson"
    if lock_model:
        query["lock"] = "model"
    if hidden:
        query["hide"] = ",".join(hidden)
    return f"{base.rstrip('/')}/{page}" + (f"?{urlencode(query)}" if query else "")


def base_url(path: str) -> str:
    """This server's address as the browser sees it, without the page's `path`."""
    url = (st.context.url or "").split("?")[0].rstrip("/")
    return url[: -len(path)].rstrip("/") if path and url.endswith("/" + path) else url


def share_button(page: str, path: str) -> None:
    """"Share this view" (in the sidebar) for `page` (its PARAMETERS' name) at url `path`: the options, then the
    link, with a copy button."""
    labels = {key: f"{key} — {what}" for key, what in PARAMETERS.get(page, {}).items()
              if key not in ("index", "z", "drawing", "lesson", "lesson_step")}
    with st.sidebar.popover("Share this view", icon=":material/share:", width="stretch"):
        st.caption("A link to this page as it is now: every setting, the model, and the drawing if there is one.")
        lesson = st.checkbox("Lesson mode: no navigation, no sidebar", key="share_lesson")
        lock = st.checkbox("Lock the model", key="share_lock")
        hidden = st.multiselect("Hide these controls (their values still apply)", list(labels), key="share_hide",
                                format_func=labels.get)
        st.code(link(base_url(path), path, current_values(page), lesson, lock, hidden), language=None,
                wrap_lines=True)
