"""A step's question: predict first, then the answer revealed from the model's own numbers.

A prediction is made before its answer can be seen: a step shows the numbers that give an answer away only once
the prediction is locked in (`ask`'s `after_lock`). It is graded against the view it was made on (the model and
the image of that moment, kept with it): choosing another image afterwards does not re-grade it, and the step
offers to predict again for the new view.

Alone, a student reveals the answer themselves. In a class the teacher runs peer instruction (classroom.polls): vote 1
with a confidence, a discussion with the neighbours, vote 2, then the answer revealed to the whole class at once from
the Class page. Every vote is read back from the database (a reload shows it, and never lets it change); the step
follows the teacher's phases, looking again every few seconds. A student never sees the class's counts.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import streamlit as st

from classroom import classes, polls
from ui import focus, identity, refusals, store, text


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
    st.markdown(f"**Predict first.** {question.prompt}")
    membership = active_class()
    if membership is not None:
        return ask_in_class(question, ctx, after_lock, membership[0])
    state = st.session_state
    locked = f"learn_locked_{question.key}"
    if locked not in state:
        pick = st.radio("Your prediction", question.options, index=None, key=f"learn_pick_{question.key}")
        if st.button("Lock in my prediction", key=f"learn_lock_{question.key}", disabled=pick is None):
            state[locked] = (pick, ctx)
            state["learn_focus"] = question.key  # the next run takes the focus to what follows the lock
            st.rerun()
        if after_lock is not None:
            st.caption("This image's numbers appear once your prediction is locked in.")
        return False
    pick, made_on = state[locked]
    shown(question, f"Your prediction: {pick}", after_lock)
    if made_on.view != ctx.view:
        st.caption(f"You predicted for {made_on.described} on {made_on.info.name}: the answer is for that view.")
        if st.button("Predict again for this view", key=f"learn_again_{question.key}"):
            del state[locked]
            state.pop(f"learn_reveal_{question.key}", None)
            st.rerun()
    if st.toggle("Reveal the answer", key=f"learn_reveal_{question.key}"):
        reveal(question, made_on, pick)
    return True


def shown(question: Question, said: str, after_lock: Callable | None) -> None:
    """What the lock shows: the prediction, then the step's numbers; the focus there just after the lock (Tab: on to
    the reveal)."""
    if st.session_state.get("learn_focus") == question.key:
        del st.session_state["learn_focus"]
        focus.move_focus(f".st-key-learn_shown_{question.key}")
    with st.container(key=f"learn_shown_{question.key}"):
        st.caption(said)
        if after_lock is not None:
            after_lock()


def judged(question: Question, ctx, pick: str) -> bool | None:
    """Whether `pick` is right on the view `ctx`; None where the answer needs something done first."""
    right = rights(question.answer(ctx)[0])
    return pick in right if set(right) & set(question.options) else None


def described(vote: polls.Vote) -> str:
    sure = f", {polls.CONFIDENCE[vote.confidence]}" if vote.confidence in polls.CONFIDENCE else ""
    return f"{vote.answer}{sure}"


def cast(question: Question, ctx, klass, round_: int) -> str | None:
    """The form of vote `round_` (an answer and how sure); the answer once the vote is recorded. A refusal (the vote
    closed meanwhile, a vote from another tab first) is a message."""
    suffix = "" if round_ == 1 else "2"
    pick = st.radio("Your prediction" if round_ == 1 else "Your second vote", question.options, index=None,
                    key=f"learn_pick{suffix}_{question.key}")
    sure = st.radio("How sure are you?", tuple(polls.CONFIDENCE), index=None, horizontal=True,
                    format_func=polls.CONFIDENCE.get, key=f"learn_sure{suffix}_{question.key}")
    label = "Lock in my prediction" if round_ == 1 else "Lock in my second vote"
    if not st.button(label, key=f"learn_lock{suffix}_{question.key}", disabled=pick is None or sure is None):
        return None
    with st.spinner("Recording your vote…"):
        right = judged(question, ctx, pick)
        if not refusals.attempt(f"learn_{question.key}", polls.vote, store.database(), klass, identity.current(),
                                question.key, round_, pick, sure, ctx.info.name[:64], ctx.image_name[:80], right):
            st.rerun()  # its refusal shown by the next run, until dismissed
    return pick


def ask_in_class(question: Question, ctx, after_lock: Callable | None, klass) -> bool:
    """The question in a class, as the teacher runs it: vote 1 (with a confidence), the discussion, vote 2, the
    reveal; each vote read back from the database. True once vote 1 is in."""
    state = st.session_state
    engine, me, key = store.database(), identity.current(), question.key
    refusals.show(f"learn_{key}")
    first = polls.votes_of(engine, klass, me, key).get(1)
    if first is None:
        poll = polls.poll(engine, klass, key)
        if poll.open_round() == 1:
            pick = cast(question, ctx, klass, 1)
            if pick is not None:
                state[f"learn_locked_{key}"] = (pick, ctx)  # the view it was cast on, while this session lasts
                state["learn_focus"] = key
                st.rerun()
            if after_lock is not None:
                st.caption("This image's numbers appear once your prediction is locked in.")
            return False
        st.info("Voting on this question is closed: your teacher has "
                + ("revealed the answer." if poll.revealed else "moved on." if poll.closed else
                   "closed vote 1 for the discussion."))
        if poll.revealed:
            reveal(question, ctx, None)
        return False
    shown(question, f"Your prediction: {described(first)} (recorded for {text.plain(klass.title)})", after_lock)
    kept = state.get(f"learn_locked_{key}")
    made_on = kept[1] if kept and (kept[1].info.name, kept[1].image_name) == (first.model, first.image) else (
        ctx if (ctx.info.name, ctx.image_name) == (first.model, first.image) else None)
    if made_on is not None and made_on.view != ctx.view:
        st.caption(f"You predicted for {made_on.described} on {made_on.info.name}: the answer is for that view.")

    waiting = not polls.revealed(engine, klass, key)  # once revealed, nothing more comes: no more looking

    @st.fragment(run_every=3.0 if waiting else None)
    def follow_the_teacher():
        poll = polls.poll(engine, klass, key)
        if poll.revealed and waiting:
            st.rerun()  # the page once more, drawn as revealed and no longer looking every few seconds
        second = polls.votes_of(engine, klass, me, key).get(2)
        if second is not None:
            if state.pop("learn_focus", None) == (key, 2):  # just locked in: the focus on it, as after vote 1
                focus.move_focus(f".st-key-learn_second_{key}")
            st.container(key=f"learn_second_{key}").caption(f"Your second vote: {described(second)}")
        final = second or first
        if poll.revealed:
            if made_on is None:  # a reload on another view: the vote's own judgement, made when it was cast
                verdict = {True: "right", False: "not right", None: "not judged"}[final.right]
                st.info(f"The answer is revealed. You voted on {final.image} of {final.model}: your vote was "
                        f"{verdict} there. Choose that model and image to see the answer's numbers.")
            else:
                reveal(question, made_on, final.answer)
        elif poll.open_round() == 2 and second is None:
            st.info("Vote again, now that you have discussed it: the same answer or another.")
            if cast(question, ctx, klass, 2) is not None:
                state["learn_focus"] = (key, 2)
                st.rerun()  # a whole run: a click's run may be the page's, where a fragment's rerun is refused
        elif poll.phase == polls.DISCUSSION and not poll.closed:
            st.info("Discuss with your neighbours: convince them of your answer, or let them convince you. "
                    "Your teacher opens vote 2 next.")
        else:
            st.info("Your teacher reveals the answer to the whole class: it appears here then.")

    follow_the_teacher()
    return True


def rights(right) -> tuple[str, ...]:
    return (right,) if isinstance(right, str) else tuple(right)


def reveal(question: Question, ctx, pick: str | None) -> None:
    """The answer on the view `ctx`, with the verdict on `pick` (None: no prediction was made)."""
    with st.spinner("Working out the answer from the model…"):
        right, why = question.answer(ctx)
    right = rights(right)
    if not set(right) & set(question.options):  # the answer needs something done first (a training run)
        st.info(why)
    elif pick is None:
        st.info(f"The answer is {right[0]}. {why}")
    elif pick in right:
        st.success(f"Right: {pick}. {why}")
    else:
        st.warning(f"Not this time: the answer is {right[0]}. {why}")
