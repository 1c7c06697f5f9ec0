"""Submitting one of your models to a class: the entry goes on the board with the figures the server measured itself
(one measurement per model, shared with Save's: classroom.scoring), whole, or not at all.

The click's callback does the work, before the page's next run (no rerun can drop it): a class that refuses (frozen,
closed) refuses at once, with a message, and nothing is kept; a measured model goes on the board now; one not measured
yet waits in the database and goes on the board when measured, whether or not its tab is still open.
"""
from __future__ import annotations

import streamlit as st

from classroom import Refused, classes, models as saved, scoring
from ui import text


def submit_form(engine, identity: str, model: saved.SavedModel, key: str) -> None:
    """A class picker and "Submit to the class" for `identity`'s model `model` (nothing when they are in no open
    class), what the last click came to, and the model's submissions waiting for its measurement."""
    state = st.session_state
    outcome = f"{key}_outcome"
    shown = state.get(outcome)
    joined = classes.classes_of(engine, identity)
    taking = [c for c, _ in joined if not c.frozen]
    if taking:
        row = st.container(horizontal=True, vertical_alignment="bottom")
        titles = {c.code: c.title for c in taking}
        row.selectbox("Class", list(titles), format_func=lambda c: f"{titles[c]} ({c})", key=f"{key}_class")
        row.button("Submit to the class", key=f"{key}_submit", icon=":material/upload:",
                   on_click=lambda: state.update({outcome: (model.id, *submit(engine, identity, model,
                                                                               state.get(f"{key}_class")))}))
    if shown and shown[0] == model.id and shown[1] == "info":  # waiting: said below, from the database, while it waits
        shown = state.pop(outcome)
    frozen = [c for c, _ in joined if c.frozen]
    if frozen:
        st.caption("Submissions are frozen for now in " + ", ".join(text.plain(c.title) for c in frozen) + ".")
    if shown and shown[0] == model.id and shown[1] != "info":
        getattr(st, shown[1])(shown[2])
    for wait_id, title, status, message in scoring.waiting(engine, model.id, identity):
        if status == "refused":  # read once, then forgotten
            st.error(text.plain(message or "Not submitted."))
            scoring.forget_refusal(engine, wait_id, identity)
        else:
            st.info(f"Waiting for its measurement: it goes on the board of {text.plain(title)} once measured "
                    "(you may close the tab).")
    boards = scoring.boards_of(engine, model.id)
    if boards and not (shown and shown[0] == model.id and shown[1] == "success"):
        st.caption("On the board of " + ", ".join(text.plain(title) for title in boards) + ".")


def submit(engine, identity: str, model: saved.SavedModel, code) -> tuple[str, str]:
    """Submit `model` to the class with code `code` (read again now): ("success" | "info" | "error", what to say)."""
    klass = next((c for c, _ in classes.classes_of(engine, identity) if c.code == code), None)
    try:
        if klass is None:
            raise Refused("That class no longer takes submissions (closed, or you left it): nothing was submitted.")
        figures = scoring.submit(engine, klass, identity, model.id)
    except Refused as exc:
        return "error", text.plain(str(exc))
    if figures is None:  # waiting: said by submit_form from the database, where it waits
        return "info", ""
    return "success", (f"On the board of {text.plain(klass.title)}: ELBO {figures['elbo']:.1f}, rate "
                       f"{figures['rate']:.2f} nats, distortion {figures['distortion']:.2f}, IWAE log p(x) "
                       f"{figures['log_px_iwae']:.1f} (K = {figures.get('iw_samples', 100)}, "
                       f"{figures['iwae_images']:,} test images).")
