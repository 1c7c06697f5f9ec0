"""Peer instruction on the Learn path's questions (Mazur; Smith et al., Science 2009): vote 1 with a confidence,
discussion, vote 2, then the reveal, each question's phase set by the class's teacher.

A question's poll in a class goes VOTE_1 → DISCUSSION → VOTE_2 → REVEALED, forward only (the teacher may reveal from
any phase, skipping the rest); moving on closes its votes for good. A vote is locked in once made: a second vote in
the same round, a vote in a round that is not open, a non-member's vote are each refused with a message. The counts
are the teacher's (`counts`); the presenter view shows them only while `Poll.shown`. Each vote keeps the view it was
made on (the model and the image) and whether it was right there, judged by the app when it was cast, so that the
share right before and after the discussion is computed honestly.

No Streamlit here: the pages call these functions, and the tests call them with threads.
"""
from __future__ import annotations

import time
from dataclasses import dataclass

from sqlalchemy import func, insert, select, update
from sqlalchemy.exc import IntegrityError

from . import Refused
from .classes import Class, clean_text, membership, teaches
from .db import polls, votes

VOTE_1, DISCUSSION, VOTE_2, REVEALED = 0, 1, 2, 3
PHASES = {VOTE_1: "vote 1 open", DISCUSSION: "discussion", VOTE_2: "vote 2 open", REVEALED: "revealed"}
CONFIDENCE = {1: "guessing", 2: "fairly sure", 3: "sure"}


@dataclass(frozen=True)
class Poll:
    question: str
    phase: int = VOTE_1
    shown: bool = False  # the counts on the presenter view
    closed: bool = False  # moved on: no more votes
    updated: float = 0.0  # when the teacher last changed it (0: never)

    def open_round(self) -> int | None:
        """The round that takes votes now (1 or 2), or None."""
        if self.closed:
            return None
        return {VOTE_1: 1, VOTE_2: 2}.get(self.phase)

    @property
    def revealed(self) -> bool:
        return self.phase == REVEALED


@dataclass(frozen=True)
class Vote:
    round: int
    answer: str
    confidence: int | None
    model: str | None  # the view it was cast on
    image: str | None
    right: bool | None  # None: not judged (an answer that needs something done first; an answer from before v4)


POLL_COLUMNS = (polls.c.question, polls.c.phase, polls.c.shown, polls.c.closed, polls.c.updated)
VOTE_COLUMNS = (votes.c.round, votes.c.answer, votes.c.confidence, votes.c.model, votes.c.image, votes.c.right)


def poll(engine, klass: Class, question: str) -> Poll:
    """The question's poll in the class (a question nobody has voted on yet: vote 1 open)."""
    with engine.connect() as connection:
        row = connection.execute(select(*POLL_COLUMNS).where(polls.c.class_id == klass.id,
                                                             polls.c.question == question)).first()
    return Poll(*row) if row else Poll(question)


def polls_of(engine, klass: Class) -> dict[str, Poll]:
    """Every question of the class with a poll row (voted on, or set by the teacher)."""
    with engine.connect() as connection:
        rows = connection.execute(select(*POLL_COLUMNS).where(polls.c.class_id == klass.id))
        return {row[0]: Poll(*row) for row in rows}


def _locked_poll(connection, klass: Class, question: str) -> Poll:
    """The poll's row, created if missing, locked for this transaction (PostgreSQL: FOR UPDATE; SQLite's BEGIN
    IMMEDIATE holds the whole database already)."""
    where = (polls.c.class_id == klass.id, polls.c.question == question)
    row = connection.execute(select(*POLL_COLUMNS).where(*where).with_for_update()).first()
    if row is None:
        try:
            with connection.begin_nested():
                connection.execute(insert(polls).values(class_id=klass.id, question=question, phase=VOTE_1,
                                                        shown=False, closed=False, updated=0.0))  # no teacher yet
        except IntegrityError:
            pass  # made by another transaction at the same moment
        row = connection.execute(select(*POLL_COLUMNS).where(*where).with_for_update()).first()
    return Poll(*row)


def vote(engine, klass: Class, identity: str | None, question: str, round_: int, choice: str,
         confidence: int | None = None, model: str | None = None, image: str | None = None,
         right: bool | None = None) -> Vote:
    """A member's vote in round 1 or 2, locked in. Refused: not a member, a round that is not open, a second vote in
    the round, a confidence out of range."""
    member = membership(engine, klass, identity)
    if member is None:
        raise Refused("Join the class before answering its questions.")
    question = clean_text(question, 64, "A question")
    choice = clean_text(choice, 80, "An answer")
    if round_ not in (1, 2):
        raise Refused("A question has two votes: 1 and 2.")
    if confidence is not None and confidence not in CONFIDENCE:
        raise Refused("Say how sure you are: guessing, fairly sure or sure.")
    try:
        with engine.begin() as connection:
            current = _locked_poll(connection, klass, question)
            if current.open_round() != round_:
                raise Refused(_closed_message(current, round_))
            connection.execute(insert(votes).values(
                class_id=klass.id, member_id=member.id, question=question, round=round_, answer=choice,
                confidence=confidence, model=model, image=image, right=right, created=time.time()))
    except IntegrityError:
        raise Refused(f"Your vote {round_} on this question is locked in already: it cannot be changed.") from None
    return Vote(round_, choice, confidence, model, image, right)


def _closed_message(current: Poll, round_: int) -> str:
    if current.revealed:
        return "The answer is revealed: this question's votes are closed."
    if current.closed:
        return "Your teacher has moved on: this question's votes are closed."
    if round_ == 2 and current.phase < VOTE_2:
        return "Vote 2 is not open yet: your teacher opens it after the discussion."
    return f"Vote {round_} is closed."


def votes_of(engine, klass: Class, identity: str | None, question: str) -> dict[int, Vote]:
    """`identity`'s votes on the question, by round (none for a non-member)."""
    member = membership(engine, klass, identity)
    if member is None:
        return {}
    with engine.connect() as connection:
        rows = connection.execute(select(*VOTE_COLUMNS).where(
            votes.c.class_id == klass.id, votes.c.member_id == member.id, votes.c.question == question))
        return {row[0]: Vote(*row) for row in rows}


def _teacher_change(engine, klass: Class, identity, question: str, change) -> Poll:
    """Apply `change(poll) -> dict of new values` to the poll under its lock; the teacher's only."""
    if not teaches(engine, klass, identity):
        raise Refused("Only the class's teacher can do that.")
    question = clean_text(question, 64, "A question")
    with engine.begin() as connection:
        current = _locked_poll(connection, klass, question)
        values = change(current)
        connection.execute(update(polls).where(polls.c.class_id == klass.id, polls.c.question == question)
                           .values(updated=time.time(), **values))
    return Poll(**{**current.__dict__, **values})


def advance(engine, klass: Class, identity, question: str, phase: int) -> Poll:
    """The teacher moves the question on to `phase` (forward only; REVEALED from any phase)."""
    if phase not in PHASES:
        raise Refused("No such phase.")

    def change(current: Poll) -> dict:
        if phase <= current.phase:
            return {}  # there already (a second click, a second teacher): nothing to do
        if current.closed and phase != REVEALED:
            raise Refused("You have moved on from this question: its votes stay closed.")
        return {"phase": phase}

    return _teacher_change(engine, klass, identity, question, change)


def reveal(engine, klass: Class, identity, question: str) -> Poll:
    """The teacher reveals the question's answer to the whole class: its votes close."""
    return advance(engine, klass, identity, question, REVEALED)


def revealed(engine, klass: Class, question: str) -> bool:
    return poll(engine, klass, question).revealed


def show(engine, klass: Class, identity, question: str, shown: bool) -> Poll:
    """The teacher shows (or hides) the question's counts on the presenter view."""
    return _teacher_change(engine, klass, identity, question, lambda current: {"shown": bool(shown)})


def move_on(engine, klass: Class, identity, question: str) -> Poll:
    """The teacher moves on: the question's votes close for good (its answer may still be revealed)."""
    return _teacher_change(engine, klass, identity, question, lambda current: {"closed": True})


def _by_round(engine, klass: Class, question: str, column, *where) -> dict[int, dict]:
    """How many votes of each `column` value, by round: {1: {value: n}, 2: {…}}."""
    query = (select(votes.c.round, column, func.count())
             .where(votes.c.class_id == klass.id, votes.c.question == question, *where)
             .group_by(votes.c.round, column))
    found: dict[int, dict] = {1: {}, 2: {}}
    with engine.connect() as connection:
        for round_, value, count in connection.execute(query):
            found[round_][value] = count
    return found


def counts(engine, klass: Class, question: str) -> dict[int, dict[str, int]]:
    """How many voted each answer, by round: {1: {answer: n}, 2: {…}}. The teacher's: never shown to a student."""
    return _by_round(engine, klass, question, votes.c.answer)


def confidences(engine, klass: Class, question: str) -> dict[int, dict[int, int]]:
    """How sure the voters were, by round: {1: {confidence: n}, 2: {…}} (votes from before v4 have none)."""
    return _by_round(engine, klass, question, votes.c.confidence, votes.c.confidence.is_not(None))


def answers_of(engine, klass: Class) -> dict[str, dict[str, int]]:
    """Each question's first votes in the class: {question: {answer: how many}}."""
    query = (select(votes.c.question, votes.c.answer, func.count())
             .where(votes.c.class_id == klass.id, votes.c.round == 1).group_by(votes.c.question, votes.c.answer))
    found: dict[str, dict[str, int]] = {}
    with engine.connect() as connection:
        for question, choice, count in connection.execute(query):
            found.setdefault(question, {})[choice] = count
    return found


def _pairs(engine, klass: Class, question: str) -> list[tuple[Vote, Vote]]:
    """(vote 1, vote 2) of each member who cast both."""
    first, second = votes.alias("first"), votes.alias("second")
    query = (select(*(first.c[c.name] for c in VOTE_COLUMNS), *(second.c[c.name] for c in VOTE_COLUMNS))
             .join(second, (second.c.class_id == first.c.class_id) & (second.c.member_id == first.c.member_id)
                   & (second.c.question == first.c.question) & (second.c.round == 2))
             .where(first.c.class_id == klass.id, first.c.question == question, first.c.round == 1))
    n = len(VOTE_COLUMNS)
    with engine.connect() as connection:
        return [(Vote(*row[:n]), Vote(*row[n:])) for row in connection.execute(query)]


def switches(engine, klass: Class, question: str) -> dict[tuple[str, str], int]:
    """The switch matrix: {(vote 1's answer, vote 2's answer): how many members moved so}, over those who voted
    twice."""
    found: dict[tuple[str, str], int] = {}
    for first, second in _pairs(engine, klass, question):
        found[first.answer, second.answer] = found.get((first.answer, second.answer), 0) + 1
    return found


@dataclass(frozen=True)
class Share:
    judged: int  # members who voted twice, both votes judged on their view
    right_before: int
    right_after: int

    def before(self) -> float | None:
        return self.right_before / self.judged if self.judged else None

    def after(self) -> float | None:
        return self.right_after / self.judged if self.judged else None


def share_right(engine, klass: Class, question: str) -> Share:
    """How many of those who voted twice were right at vote 1 and at vote 2 (each vote judged on the view it was
    cast on; votes that could not be judged left out)."""
    judged = [(a, b) for a, b in _pairs(engine, klass, question) if a.right is not None and b.right is not None]
    return Share(len(judged), sum(a.right for a, _ in judged), sum(b.right for _, b in judged))


def current(engine, klass: Class) -> Poll | None:
    """The question the class is on: of those not moved on from, the one the teacher changed last, else (before the
    teacher's first click) the one with the most first votes; None when there is none. A student's vote on another
    step's question does not take the presenter view there."""
    live = [p for p in polls_of(engine, klass).values() if not p.closed]
    touched = [p for p in live if p.updated > 0]
    if touched:
        return max(touched, key=lambda p: p.updated)
    firsts = answers_of(engine, klass)
    return max(live, key=lambda p: sum(firsts.get(p.question, {}).values()), default=None)
