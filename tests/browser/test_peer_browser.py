"""Peer instruction in Chromium: a teacher and three students, each a browser of their own, through vote 1 with a
confidence, the discussion, vote 2, the counts on the presenter view, the reveal and a reload. No student's page
holds a result (a count, a chart of the votes, a verdict) before the reveal, at any moment."""
import re

from playwright.sync_api import expect

from classroom import classes, db, polls
from tests.browser.test_accessibility import PHONE, violations
from tests.support import ROOT
from tests.support.figure_lint import lint
from tests.support.server import needs_chromium
from tests.support.walk import resize, wait_idle, watch

needs_chromium()
ARTIFACTS = ROOT / "test-artifacts"
Q = "kl-printed"
RESULT = re.compile(r"Right: |Not this time|[Tt]he answer is |\d+ voted|vote 1: \d|Right at vote")


def no_result(students) -> None:
    """Nothing of the class's counts nor the answer on any student's page: its text, and its markup (a chart's SVG
    text and text alternative)."""
    for student in students:
        shown = student.page.locator("body").inner_text()
        assert not RESULT.search(shown), RESULT.search(shown)
        assert "students voted" not in student.page.content()


def vote(student, prompt: str, pick: str, sure: str, button: str) -> None:
    student.page.get_by_test_id("stRadio").filter(has_text=prompt).get_by_text(pick, exact=True).click()
    wait_idle(student.page, timeout=60)
    student.page.get_by_test_id("stRadio").filter(has_text="How sure are you?").get_by_text(sure, exact=True).click()
    wait_idle(student.page, timeout=60)
    student.click("button", button)


def test_a_teacher_and_three_students_vote_twice_and_no_student_sees_a_result_before_the_reveal(people,
                                                                                                 class_server):
    url, database = class_server
    teacher = people(url)
    code = teacher.start_class("Peer instruction, twice")
    engine = db.engine(database)
    klass = classes.find(engine, code)
    students = []
    for name in ("Ada", "Bo", "Cy"):
        student = people(url)
        student.join_class(code, name)
        student.open("?learn_step=8")
        student.page.get_by_text("Lock in my prediction").wait_for()
        students.append(student)
    ada, bo, cy = students
    resize(cy.page, PHONE)  # one of them on a phone
    for student, pick, sure in ((ada, "½", "sure"), (bo, "0", "guessing"), (cy, "0", "fairly sure")):
        vote(student, "Your prediction", pick, sure, "Lock in my prediction")
        student.page.get_by_text("Your teacher reveals the answer").wait_for()
        no_result(students)
    assert polls.counts(engine, klass, Q)[1] == {"½": 1, "0": 2}

    teacher.open(f"class?class={code}")
    teacher.page.get_by_role("tab", name="Predictions").click()
    teacher.click("button", "Close vote 1: discuss")
    for student in students:
        student.page.get_by_text("Discuss with your neighbours").wait_for(timeout=20_000)  # its fragment looks again
    no_result(students)
    teacher.click("button", "Open vote 2")
    for student, pick, sure in ((ada, "½", "sure"), (bo, "½", "fairly sure"), (cy, "0", "sure")):
        student.page.get_by_text("Lock in my second vote").wait_for(timeout=20_000)
        no_result(students)
        if student is not bo:  # the vote's form, at 1500 px and at a phone's width
            wait_idle(student.page, timeout=30)
            assert not violations(student.page), violations(student.page)
        vote(student, "Your second vote", pick, sure, "Lock in my second vote")
        student.page.get_by_text("Your second vote:").wait_for()
        student.page.wait_for_function(  # the focus on what the lock showed, as after vote 1
            f"() => document.activeElement && document.activeElement.closest('.st-key-learn_second_{Q}')",
            timeout=20_000)
        no_result(students)

    teacher.page.get_by_text("Right at vote 1: 1 of 3 (33%); at vote 2: 2 of 3 (67%)").wait_for(timeout=20_000)
    expect(teacher.page.get_by_test_id("stTable")).to_contain_text("vote 1: 0")
    wait_idle(teacher.page, timeout=30)
    assert not violations(teacher.page) and not lint(teacher.page), (violations(teacher.page), lint(teacher.page))
    presenter = teacher.context.new_page()  # the projector's tab, in the teacher's browser
    watch(presenter)
    presenter.goto(f"{url}/class?class={code}&present=1")
    presenter.get_by_text("Vote again on your device").wait_for(timeout=60_000)
    wait_idle(presenter, timeout=60)
    assert presenter.locator(".js-plotly-plot").count() == 0 and "students voted" not in presenter.content()
    teacher.click("button", "Show the counts on the presenter view")
    presenter.locator(".js-plotly-plot").wait_for(timeout=20_000)  # the teacher chose to show them
    presenter.screenshot(path=ARTIFACTS / "peer-presenter.png", full_page=True)
    wait_idle(presenter, timeout=30)
    assert not violations(presenter) and not lint(presenter), (violations(presenter), lint(presenter))
    wait_idle(ada.page, timeout=30)
    no_result(students)  # shown on the projector, not on the students' screens

    teacher.click("button", "Reveal to the class")
    ada.page.get_by_text(re.compile("Right: ½")).wait_for(timeout=20_000)
    bo.page.get_by_text(re.compile("Right: ½")).wait_for(timeout=20_000)
    cy.page.get_by_text(re.compile("Not this time: the answer is ½")).wait_for(timeout=20_000)
    bo.page.reload()  # a reload: the votes and the answer from the database; nothing to change
    wait_idle(bo.page, since=0, start_timeout=10, timeout=120)
    bo.page.get_by_text(re.compile("Right: ½")).wait_for(timeout=30_000)
    assert "Your prediction: 0, guessing" in bo.page.locator("body").inner_text()
    assert "Your second vote: ½, fairly sure" in bo.page.locator("body").inner_text()
    expect(bo.page.get_by_role("button", name=re.compile("Lock in"))).to_have_count(0)
    teacher.click("button", "Move on")
    teacher.page.get_by_text(re.compile("revealed · moved on")).wait_for(timeout=20_000)
    assert polls.poll(engine, klass, Q).closed
    teacher.page.screenshot(path=ARTIFACTS / "peer-console.png", full_page=True)
    for person in [teacher, *students]:
        assert not person.console.take()
        assert "Traceback" not in person.page.locator("body").inner_text()
