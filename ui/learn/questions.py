"""A step's question: predict first, then the answer revealed from the model's own numbers.

Alone, a student reveals the answer themselves. In a class, the prediction is recorded (classroom.classes.answer)
and the teacher reveals each question to the whole class at once from the Class page (peer instruction); the
step waits for it, looking again every few seconds.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import streamlit as st

from classroom import classes
from ui import identity, store, text


@dataclass(frozen=True)
class Question:
    key: str  # stable: answers are counted by it across the class
    prompt: str
    options: tuple[str, ...]
    answer: Callable  # (Context) -> (the right option, the numbers that show it)


def active_class():
    """(class, membership) of the open class this browser joined last, or None."""
    me = identity.current()
    joined = classes.classes_of(store.database(), me) if me else []
    return joined[-1] if joined else None


def ask(question: Question, ctx) -> None:
    """The prediction (locked in before anything is shown), then the revealed answer."""
    state = st.session_state
    locked = f"learn_locked_{question.key}"
    st.markdown(f"**Predict first.** {question.prompt}")
    membership = active_class()
    if locked not in state:
        pick = st.radio("Your prediction", question.options, index=None, key=f"learn_pick_{question.key}")
        if st.button("Lock in my prediction", key=f"learn_lock_{question.key}", disabled=pick is None):
            state[locked] = pick
            if membership is not None:
                classes.answer(store.database(), membership[0], identity.current(), question.key, pick)
            st.rerun()
        return
    pick = state[locked]
    st.caption(f"Your prediction: {pick}" + (f" (recorded for {text.plain(membership[0].title)})" if membership else ""))
    if membership is not None:
        klass = membership[0]

        @st.fragment(run_every=3.0)
        def wait_for_the_teacher():
            if not classes.revealed(store.database(), klass, question.key):
                st.info("Your teacher reveals the answer to the whole class: it appears here then.")
                return
            reveal(question, ctx, pick)

        wait_for_the_teacher()
        return
    if st.toggle("Reveal the answer", key=f"learn_reveal_{question.key}"):
        reveal(question, ctx, pick)


def reveal(question: Question, ctx, pick: str) -> None:
    right, why = question.answer(ctx)
    if right not in question.options:  # the answer needs something done first (a training run)
        st.info(why)
    elif pick == right:
        st.success(f"Right: {right}. {why}")
    else:
        st.warning(f"Not this time: the answer is {right}. {why}")
