"""A step's question: predict first, then the answer revealed from the model's own numbers.

A prediction is made before its answer can be seen: a step shows the numbers that give an answer away only once
the prediction is locked in (`ask`'s `after_lock`). It is graded against the view it was made on (the model and
the image of that moment, kept with it): choosing another image afterwards does not re-grade it, and the step
offers to predict again for the new view.

Alone, a student reveals the answer themselves. In a class, the prediction is recorded (classroom.classes.answer)
and the teacher reveals each question to the whole class at once from the Class page (peer instruction); the
step waits for it, looking again every few seconds.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import streamlit as st

from classroom import classes
from ui import focus, identity, store, text


@dataclass(frozen=True)
class Question:
    key: str  # stable: answers are counted by it across the class
    prompt: str  # the same words on every model: a class's predictions are counted together
    options: tuple[str, ...]
    answer: Callable  # (Context) -> (the right option, or a tuple of the options all right; the numbers that show it)


def active_class():
    """(class, membership) of the open class this browser joined last, or None."""
    me = identity.current()
    joined = classes.classes_of(store.database(), me) if me else []
    return joined[-1] if joined else None


def ask(question: Question, ctx, after_lock: Callable | None = None) -> bool:
    """The prediction, locked in before anything that gives the answer away is shown; then `after_lock()` (the
    step's numbers), then the revealed answer. True once a prediction is locked in."""
    state = st.session_state
    locked = f"learn_locked_{question.key}"
    st.markdown(f"**Predict first.** {question.prompt}")
    membership = active_class()
    if locked not in state:
        pick = st.radio("Your prediction", question.options, index=None, key=f"learn_pick_{question.key}")
        if st.button("Lock in my prediction", key=f"learn_lock_{question.key}", disabled=pick is None):
            state[locked] = (pick, ctx)
            state["learn_focus"] = question.key  # the next run takes the focus to what follows the lock
            if membership is not None:
                classes.answer(store.database(), membership[0], identity.current(), question.key, pick)
            st.rerun()
        if after_lock is not None:
            st.caption("This image's numbers appear once your prediction is locked in.")
        return False
    pick, made_on = state[locked]
    if state.pop("learn_focus", None) == question.key:  # just locked in: focus on what it showed; Tab: the reveal
        focus.move_focus(f".st-key-learn_shown_{question.key}")
    with st.container(key=f"learn_shown_{question.key}"):
        recorded = f" (recorded for {text.plain(membership[0].title)})" if membership else ""
        st.caption(f"Your prediction: {pick}{recorded}")
        if after_lock is not None:
            after_lock()
    if made_on.view != ctx.view:
        st.caption(f"You predicted for {made_on.described} on {made_on.info.name}: the answer is for that view.")
        if st.button("Predict again for this view", key=f"learn_again_{question.key}"):
            del state[locked]
            state.pop(f"learn_reveal_{question.key}", None)
            st.rerun()
    if membership is not None:
        klass = membership[0]

        @st.fragment(run_every=3.0)
        def wait_for_the_teacher():
            if not classes.revealed(store.database(), klass, question.key):
                st.info("Your teacher reveals the answer to the whole class: it appears here then.")
                return
            reveal(question, made_on, pick)

        wait_for_the_teacher()
        return True
    if st.toggle("Reveal the answer", key=f"learn_reveal_{question.key}"):
        reveal(question, made_on, pick)
    return True


def rights(right) -> tuple[str, ...]:
    return (right,) if isinstance(right, str) else tuple(right)


def reveal(question: Question, ctx, pick: str) -> None:
    with st.spinner("Working out the answer from the model…"):
        right, why = question.answer(ctx)
    right = rights(right)
    if not set(right) & set(question.options):  # the answer needs something done first (a training run)
        st.info(why)
    elif pick in right:
        st.success(f"Right: {pick}. {why}")
    else:
        st.warning(f"Not this time: the answer is {right[0]}. {why}")
