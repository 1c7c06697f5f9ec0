"""Peer instruction in a class (classroom.polls): the teacher's console and the presenter view.

The console (the Class page's Predictions tab, on the teacher's own screen) shows each question's counts, vote 1
and vote 2, who moved from what to what, and the share right before and after, with the controls: close vote 1 for
the discussion, open vote 2, show the counts on the presenter view, reveal, move on. The presenter view
(`/class?class=CODE&present=1`, for the projector: the teacher's browser only) shows the question the class is on, in
large type, with what to do now and how many have voted; its counts only while the teacher shows them.
"""
from __future__ import annotations

import pandas as pd
import streamlit as st

from classroom import polls
from ui import board, plots, refusals

PRESENTER_REFRESH = 3.0  # seconds between the presenter view's looks at the database
DOING = {polls.VOTE_1: "Vote on your device: your prediction, and how sure you are.",
         polls.DISCUSSION: "Discuss with your neighbours: convince them, or let them convince you.",
         polls.VOTE_2: "Vote again on your device: the same answer or another.",
         polls.REVEALED: "The answer is on your screens: each for your own model and image."}


def questions() -> dict:
    from ui.learn.steps import QUESTIONS  # torch: only where a question is drawn

    return QUESTIONS


def chart(question, counts: dict[int, dict[str, int]], key: str, height: int = 220) -> None:
    """The counts of each round that has votes, as bars with their text alternative."""
    rounds = {f"vote {r}": counts[r] for r in (1, 2) if counts[r] or r == 1}
    alt = " ".join(f"{name}: " + "; ".join(f"{o}: {c.get(o, 0)}" for o in question.options) + "."
                   for name, c in rounds.items())
    st.plotly_chart(plots.prediction_bars(question.options, rounds, question.prompt, height), key=key,
                    config={"displayModeBar": False},
                    alt=f"How many students voted each answer to “{question.prompt}”, {alt}")


def switch_matrix(question, moved: dict[tuple[str, str], int]) -> None:
    """Who moved from what (rows: vote 1) to what (columns: vote 2), as a table."""
    table = pd.DataFrame([[moved.get((a, b), 0) for b in question.options] for a in question.options],
                         index=[f"vote 1: {o}" for o in question.options],
                         columns=[f"vote 2: {o}" for o in question.options])
    st.table(table)


def share_line(share: polls.Share) -> str:
    if not share.judged:
        return "No one has voted twice on a view the app could judge yet."
    return (f"Right at vote 1: {share.right_before} of {share.judged} ({share.before():.0%}); at vote 2: "
            f"{share.right_after} of {share.judged} ({share.after():.0%}) — of those who voted twice, each vote "
            "judged on the model and image it was cast on.")


def question_panel(engine, klass, me, key: str, question, poll: polls.Poll) -> None:
    """One question in the console: its phase, counts, switches, share right and controls."""
    counts = polls.counts(engine, klass, key)
    voted = {r: sum(c.values()) for r, c in counts.items()}
    state = polls.PHASES[poll.phase] + (" · moved on" if poll.closed else "") + (
        " · counts shown on the presenter view" if poll.shown else "")
    st.markdown(f"**{question.prompt}**")
    sure = polls.confidences(engine, klass, key)
    st.caption(f"{state} · " + " · ".join(
        f"vote {r}: {voted[r]}" + (" (" + ", ".join(f"{polls.CONFIDENCE[c]} {sure[r].get(c, 0)}" for c in polls.CONFIDENCE)
                                   + ")" if sure[r] else "") for r in (1, 2)))
    chart(question, counts, f"predictions_{klass.id}_{key}")
    if voted[2]:
        switch_matrix(question, polls.switches(engine, klass, key))
        st.caption(share_line(polls.share_right(engine, klass, key)))
    ident = f"{klass.id}_{key}"
    where = f"poll_{ident}"  # a refused control's message, beside its question until dismissed
    refusals.show(where)
    row = st.container(horizontal=True)
    if not poll.closed and poll.phase == polls.VOTE_1:
        row.button("Close vote 1: discuss", key=f"poll_discuss_{ident}",
                   on_click=refusals.attempt, args=(where, polls.advance, engine, klass, me, key, polls.DISCUSSION))
    if not poll.closed and poll.phase == polls.DISCUSSION:
        row.button("Open vote 2", key=f"poll_vote2_{ident}",
                   on_click=refusals.attempt, args=(where, polls.advance, engine, klass, me, key, polls.VOTE_2))
    label = "Hide the counts on the presenter view" if poll.shown else "Show the counts on the presenter view"
    row.button(label, key=f"poll_show_{ident}",
               on_click=refusals.attempt, args=(where, polls.show, engine, klass, me, key, not poll.shown))
    if not poll.revealed:
        row.button("Reveal to the class", key=f"reveal_{ident}", type="primary",
                   on_click=refusals.attempt, args=(where, polls.reveal, engine, klass, me, key))
    if not poll.closed:
        row.button("Move on", key=f"poll_move_on_{ident}", help="closes this question's votes for good",
                   on_click=refusals.attempt, args=(where, polls.move_on, engine, klass, me, key))
    st.divider()


def console(engine, klass, me, presenter_link: str) -> None:
    """The teacher's console: every question the class has voted on, live."""

    @st.fragment(run_every=board.REFRESH)
    def live():
        known = polls.polls_of(engine, klass)
        firsts = polls.answers_of(engine, klass)
        shown = [(key, q) for key, q in questions().items() if key in known or key in firsts]
        if not shown:
            st.caption("No predictions yet: students answer each step's question on the Learn page before its reveal.")
            return
        st.caption("These counts are yours: on a projector, open the presenter view instead, which shows them only "
                   "when you choose to:")
        st.code(presenter_link, language=None)
        for key, question in shown:
            question_panel(engine, klass, me, key, question, known.get(key, polls.Poll(key)))

    live()


def presenter(engine, klass) -> None:
    """The presenter view: the question the class is on, in large type; its counts only while shown."""
    st.html("<style>.st-key-presenter p, .st-key-presenter li { font-size: 1.6rem; line-height: 1.5; }</style>")

    @st.fragment(run_every=PRESENTER_REFRESH)
    def live():
        with st.container(key="presenter"):
            poll = polls.current(engine, klass)
            question = questions().get(poll.question) if poll else None
            if question is None:
                st.markdown(f"Join the class with the code **{klass.code}**, then open the Learn page.")
                return
            st.subheader(question.prompt, anchor=False)
            st.markdown("\n".join(f"- {option}" for option in question.options))
            voted = polls.counts(engine, klass, poll.question)
            st.markdown(f"**{DOING[poll.phase]}**")
            st.markdown(f"Vote 1: {sum(voted[1].values())} voted · vote 2: {sum(voted[2].values())} voted")
            if poll.shown:
                chart(question, voted, f"presenter_{klass.id}_{poll.question}", height=420)  # for the back row

    live()
