"""Submitting one of your models to a class: the server measures it itself on the test split (with a progress bar),
then the entry goes on the board whole, or not at all."""
from __future__ import annotations

import streamlit as st

from classroom import Refused, classes, models as saved
from ui import images, pending, plots, store, text


def measure(data: bytes) -> tuple[dict, bytes]:
    """(figures, PNG) of checkpoint `data`, by vae.evaluate.scorecard on its data set's test split, with progress."""
    from vae import checkpoint
    from vae.evaluate import SCORECARD_IWAE_IMAGES, scorecard

    ckpt = checkpoint.from_bytes(data)
    _, test = store.dataset(ckpt.config.dataset, "test")
    bar = st.progress(0.0, text=f"Measuring the model on {len(test):,} test images (IWAE on the first "
                                f"{SCORECARD_IWAE_IMAGES:,})…")

    def step(done: int, total: int) -> None:
        bar.progress(done / total, text=f"Measuring the model on the test split: {done:,} of {total:,} images…")

    figures, picture = scorecard(ckpt.model, test, on_progress=step)
    bar.empty()
    steps = ckpt.meta.get("steps", ckpt.metrics.get("train", {}).get("steps"))
    figures["steps"] = int(steps) if isinstance(steps, (int, float)) else None
    return figures, images.png_bytes(images.to_uint8(plots.tile(picture.numpy(), pad=1)))


def submit_form(engine, identity: str, model: saved.SavedModel, key: str) -> None:
    """A class picker and "Submit to the class" for `identity`'s model `model` (nothing when they are in no class).

    The click only asks (its callback notes the class); the run does the work (ui/pending: a rerun that cuts it short
    does not lose it) and keeps the outcome on screen: a submission is made once, or refused with a reason.
    """
    joined = [(c, m) for c, m in classes.classes_of(engine, identity) if not c.frozen]
    if not joined:
        return
    state = st.session_state
    asked, outcome = f"{key}_asked", f"{key}_outcome"
    row = st.container(horizontal=True, vertical_alignment="bottom")
    titles = {c.code: c.title for c, _ in joined}
    row.selectbox("Class", list(titles), format_func=lambda c: f"{titles[c]} ({c})", key=f"{key}_class")
    row.button("Submit to the class", key=f"{key}_submit", icon=":material/upload:",
               on_click=lambda: state.update({asked: (model.id, state[f"{key}_class"])}))
    if state.get(asked, (None,))[0] == model.id:
        with pending.carried_out(asked) as (_, code):
            klass = next((c for c, _ in joined if c.code == code), None)
            state[outcome] = (model.id, *submit(engine, identity, model, klass))
    shown = state.get(outcome)
    if shown and shown[0] == model.id:
        getattr(st, shown[1])(shown[2])


def submit(engine, identity: str, model: saved.SavedModel, klass) -> tuple[str, str]:
    """Measure `model` and put it on `klass`'s board: ("success" | "error", what to say)."""
    if klass is None:
        return "error", "That class no longer takes submissions (frozen or closed): nothing was submitted."
    data = saved.data(engine, model.id)
    if data is None:
        return "error", "That model no longer exists (deleted in another tab?): save it again, then submit it."
    try:
        figures, picture = measure(data)
        classes.submit(engine, klass, identity, model.id, figures, picture)
    except Refused as exc:
        return "error", text.plain(str(exc))
    return "success", (f"On the board of {text.plain(klass.title)}: ELBO {figures['elbo']:.1f}, rate "
                       f"{figures['rate']:.2f} nats, distortion {figures['distortion']:.2f}, IWAE log p(x) "
                       f"{figures['log_px_iwae']:.1f} (first {figures['iwae_images']:,} test images).")
