"""Peer instruction in AppTest: a student's votes read back from the database after a reload (and never changed by
one), a refusal shown as a message, the teacher's console driving the phases, and the presenter view showing the
counts only when the teacher chooses."""
import json

from classroom import classes, db, identity, polls
from tests.support.app import session

Q = "kl-printed"
TEACHER, SAM, BO = "T" * 43, "s" * 43, "b" * 43


def learn(key: str):
    at = session(key)
    at.session_state["model"] = "mnist-2d-sigma0.3"
    at.query_params.update({"learn_step": "8"})
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def a_class():
    engine = db.engine()
    klass, _ = classes.create(engine, identity.of_browser(TEACHER), "Peer instruction")
    classes.join(engine, klass, identity.of_browser(SAM), "Sam")
    classes.join(engine, klass, identity.of_browser(BO), "Bo")
    return engine, klass


def vote(at, round_: int, pick: str, sure: int):
    suffix = "" if round_ == 1 else "2"
    at.radio(key=f"learn_pick{suffix}_{Q}").set_value(pick).run()
    at.radio(key=f"learn_sure{suffix}_{Q}").set_value(sure).run()
    at.button(key=f"learn_lock{suffix}_{Q}").click().run()
    assert not at.exception, [e.value for e in at.exception]


def said(at) -> str:
    return " ".join(e.value for kind in ("caption", "info", "success", "warning", "error") for e in at.get(kind))


def lock_buttons(at) -> list[str]:
    return [b.key for b in at.button if b.key and b.key.startswith("learn_lock")]


def teacher_page(engine, klass, present: bool = False, key: str = TEACHER):
    at = session(key)
    at.query_params.update({"class": klass.code, **({"present": "1"} if present else {})})
    at.switch_page("pages/class.py").run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def vote_charts(at) -> list[dict]:
    return [json.loads(c.proto.spec) for c in at.get("plotly_chart") if '"students"' in c.proto.spec]


def test_a_reloaded_student_sees_their_votes_then_the_answer_and_can_change_neither():
    engine, klass = a_class()
    teacher = identity.of_browser(TEACHER)
    sam = learn(SAM)
    vote(sam, 1, "0", 3)
    assert polls.votes_of(engine, klass, identity.of_browser(SAM), Q)[1].answer == "0"
    assert "Your prediction: 0, sure" in said(sam) and "reveals the answer" in said(sam)
    assert not sam.success and not sam.warning and not lock_buttons(sam)
    polls.advance(engine, klass, teacher, Q, polls.DISCUSSION)
    again = learn(SAM)  # a reload: a new session of the same browser
    assert "Your prediction: 0, sure" in said(again) and "Discuss with your neighbours" in said(again)
    assert not lock_buttons(again)
    polls.advance(engine, klass, teacher, Q, polls.VOTE_2)
    again.run()
    vote(again, 2, "½", 2)
    assert polls.votes_of(engine, klass, identity.of_browser(SAM), Q)[2].answer == "½"
    assert not again.success and not again.warning  # not revealed yet
    polls.reveal(engine, klass, teacher, Q)
    after = learn(SAM)
    assert "Your prediction: 0, sure" in said(after) and "Your second vote: ½, fairly sure" in said(after)
    assert any(s.value.startswith("Right: ½") for s in after.success) and not lock_buttons(after)
    bo = learn(BO)  # never voted: the vote is closed, the answer shown, and no form to lock
    assert "Voting on this question is closed" in said(bo) and "The answer is ½" in said(bo)
    assert not lock_buttons(bo)
    assert polls.counts(engine, klass, Q) == {1: {"0": 1}, 2: {"½": 1}}


def test_a_vote_lost_to_a_race_is_a_message_not_a_traceback(monkeypatch):
    """Two tabs of one browser: the second locks in after the first did, on a page drawn before (its form still
    open). The refusal is a message on the page."""
    engine, klass = a_class()
    tab = learn(SAM)
    polls.vote(engine, klass, identity.of_browser(SAM), Q, 1, "½", 1)  # the other tab
    monkeypatch.setattr(polls, "votes_of", lambda *args: {})  # this tab's page as drawn before that vote
    vote(tab, 1, "0", 3)
    assert any("locked in already" in e.value for e in tab.error)
    tab.run()
    assert any("locked in already" in e.value for e in tab.error)  # kept until dismissed, not erased by a run
    monkeypatch.undo()
    assert polls.votes_of(engine, klass, identity.of_browser(SAM), Q)[1].answer == "½"


def test_the_teacher_runs_the_question_and_the_presenter_shows_counts_only_when_chosen():
    engine, klass = a_class()
    vote(learn(SAM), 1, "0", 3)
    vote(learn(BO), 1, "½", 1)
    console = teacher_page(engine, klass)
    (bars,) = vote_charts(console)
    assert bars["data"][0]["x"] == [1, 1, 0, 0] and bars["layout"]["yaxis"]["type"] == "category"
    assert "vote 1: 2 (guessing 1, fairly sure 0, sure 1) · vote 2: 0" in said(console)
    presenter = teacher_page(engine, klass, present=True)
    assert not vote_charts(presenter) and not presenter.get("plotly_chart")
    shown = " ".join(m.value for m in presenter.markdown)
    assert "Vote on your device" in shown and "Vote 1: 2 voted" in shown
    console.button(key=f"poll_discuss_{klass.id}_{Q}").click().run()
    assert polls.poll(engine, klass, Q).phase == polls.DISCUSSION
    presenter.run()
    assert "Discuss with your neighbours" in " ".join(m.value for m in presenter.markdown)
    assert not presenter.get("plotly_chart")
    console.button(key=f"poll_vote2_{klass.id}_{Q}").click().run()
    sam = learn(SAM)
    vote(sam, 2, "½", 3)
    console.run()
    assert console.table and "Right at vote 1: 0 of 1 (0%); at vote 2: 1 of 1 (100%)" in said(console)
    (bars,) = vote_charts(console)
    assert [t["name"] for t in bars["data"]] == ["vote 1", "vote 2"] and bars["data"][1]["x"] == [0, 1, 0, 0]
    console.button(key=f"poll_show_{klass.id}_{Q}").click().run()
    presenter.run()
    assert vote_charts(presenter)  # shown now, on the teacher's choice
    student_there = teacher_page(engine, klass, present=True, key=SAM)  # a student at the presenter's address
    assert not vote_charts(student_there)
    console.button(key=f"reveal_{klass.id}_{Q}").click().run()
    console.button(key=f"poll_move_on_{klass.id}_{Q}").click().run()
    assert polls.revealed(engine, klass, Q) and polls.poll(engine, klass, Q).closed
    assert not console.exception and not console.error


def test_a_teachers_stale_click_is_a_message_kept_until_dismissed():
    """Two teacher tabs: one moved on while the other still offered "Open vote 2"."""
    engine, klass = a_class()
    vote(learn(SAM), 1, "0", 3)
    teacher = identity.of_browser(TEACHER)
    polls.advance(engine, klass, teacher, Q, polls.DISCUSSION)
    console = teacher_page(engine, klass)
    polls.move_on(engine, klass, teacher, Q)  # the other tab
    console.button(key=f"poll_vote2_{klass.id}_{Q}").click().run()
    assert not console.exception and polls.poll(engine, klass, Q).phase == polls.DISCUSSION
    console.run()
    assert any("moved on" in e.value for e in console.error)
