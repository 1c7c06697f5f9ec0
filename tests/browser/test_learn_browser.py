"""The guided path and lesson links in Chromium: the keyboard alone walks the path; a shared link opened in a
fresh browser shows the same view with its hidden controls absent and their values held; a teacher builds a
three-step lesson, hands out its link, and sees the class's predictions before revealing them."""
import re

from playwright.sync_api import expect

from classroom import classes, db, polls
from tests.support import ROOT
from tests.support.figure_lint import lint
from tests.support.server import needs_chromium
from tests.support.walk import new_session, runs, wait_idle, watch

needs_chromium()
ARTIFACTS = ROOT / "test-artifacts"


FOCUSED_JS = "() => { const a = document.activeElement; return a ? (a.innerText || a.getAttribute('aria-label') || '') : ''; }"


def tab_to(page, locator, most: int = 80) -> None:
    """Tab, as a keyboard user does, until the focus is on (or inside) `locator`."""
    for _ in range(most):
        if locator.evaluate("e => e === document.activeElement || e.contains(document.activeElement)"):
            return
        page.keyboard.press("Tab")
    raise AssertionError(f"Tab never reached {locator}")


def test_the_keyboard_alone_walks_the_path(browser, server):
    """Next by the keyboard, ten times: each time the old step leaves the screen and the focus lands on the new
    step's title, so reading (and Tab) go on from there; on step 8 a prediction is made, locked in and revealed with
    the keyboard alone, the focus going to what the lock showed and the reveal the next Tab stop."""
    with new_session(browser, f"{server}/?model=mnist-2d-sigma0.3", timeout=120) as page:
        title = page.locator(".st-key-learn_body h3")
        for step in range(2, 12):
            tab_to(page, page.get_by_role("button", name=re.compile("Next")))
            before = runs(page)
            page.keyboard.press("Enter")
            wait_idle(page, since=before, timeout=120)
            page.get_by_text(f"Step {step} of 11").wait_for()
            page.wait_for_function("(n) => { const a = document.activeElement; return a && a.tagName === 'H3' "
                                   "&& a.innerText.startsWith(n + '.'); }", arg=step, timeout=10_000)
            assert title.count() == 1  # the old step's content is gone, not greyed under the new one
            if step == 8:
                radio = page.get_by_role("radiogroup", name="Your prediction")
                tab_to(page, radio)
                page.keyboard.press("ArrowDown")  # the first option, as a keyboard picks in a radio group
                wait_idle(page, timeout=60)
                tab_to(page, page.get_by_role("button", name="Lock in my prediction"))
                before = runs(page)
                page.keyboard.press("Enter")
                wait_idle(page, since=before, timeout=60)
                page.wait_for_function("() => document.activeElement && document.activeElement.closest("
                                       "'.st-key-learn_shown_kl-printed')", timeout=10_000)
                page.keyboard.press("Tab")
                assert "Reveal the answer" in page.evaluate(FOCUSED_JS) or page.evaluate(
                    "() => document.activeElement.closest('[data-testid=stCheckbox]') !== null")
                before = runs(page)
                page.keyboard.press("Space")
                wait_idle(page, since=before, timeout=60)
                page.get_by_text(re.compile("the answer is ½|Right: ½")).wait_for()
        assert page.get_by_role("button", name=re.compile("Next")).is_disabled()


def test_a_shared_link_opens_the_same_view_with_its_hidden_controls_absent_and_held(browser, server):
    with new_session(browser, f"{server}/elbo?model=mnist-2d-sigma1.0&elbo_sigma=0.5&elbo_index=4", timeout=90) as page:
        page.get_by_role("button", name=re.compile("Share this view")).click()
        page.get_by_text("Lesson mode: no navigation, no sidebar").click()
        wait_idle(page, timeout=60)
        page.get_by_text("Lock the model").click()
        wait_idle(page, timeout=60)
        page.get_by_role("combobox", name=re.compile("Hide these controls")).click()
        page.get_by_role("option", name=re.compile("^elbo_sigma")).click()
        wait_idle(page, timeout=60)
        page.keyboard.press("Escape")
        link = page.locator("[data-testid=stPopoverBody] code, [data-testid=stPopover] code").last.inner_text()
    assert "view=lesson" in link and "lock=model" in link and "hide=elbo_sigma" in link and "elbo_index=4" in link
    context = browser.new_context(viewport={"width": 1500, "height": 1600})  # a fresh browser: nothing of before
    try:
        page = context.new_page()
        watch(page)
        page.goto(link)
        wait_idle(page, since=0, start_timeout=10, timeout=120)
        page.get_by_role("heading", name="ELBO decomposition").wait_for(timeout=90_000)
        expect(page.get_by_test_id("stSidebarNav")).to_be_hidden()  # waits, as a screen settles: once, in CI under
        expect(page.get_by_test_id("stSidebar")).to_be_hidden()     # load, read the sidebar before its style came
        slider = page.locator(".st-key-elbo_sigma")
        expect(slider).to_have_count(1)
        expect(slider).to_be_hidden()  # absent from the view
        beta = page.get_by_test_id("stMetric").filter(has_text="equivalent β").get_by_test_id("stMetricValue")
        assert beta.inner_text() == "0.5"  # its value held: 2 × 0.5²
        assert "test #4" in page.get_by_test_id("stMain").inner_text()
        # The page edited in the browser: the hidden slider shown and moved. The server puts it back.
        page.evaluate("() => document.querySelectorAll('style').forEach(s => { if (s.textContent.includes('st-key-elbo_sigma'))"
                      " s.remove(); })")
        slider.get_by_role("slider").focus()
        before = runs(page)
        for _ in range(4):
            page.keyboard.press("ArrowRight")
        wait_idle(page, since=before, timeout=60)
        assert beta.inner_text() == "0.5"
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=ARTIFACTS / "lesson-link.png", full_page=True)
    finally:
        context.close()


def test_a_teacher_builds_a_lesson_and_sees_the_class_predictions(people, class_server):
    url, database = class_server
    teacher = people(url)
    code = teacher.start_class("Peer instruction")
    teacher.go("Lessons")
    teacher.fill("Title", "The misprint, then σ_dec")
    teacher.page.get_by_role("textbox", name="Steps").fill(
        f"{url}/?learn_step=8&view=lesson | Predict first, then reveal.\n"
        f"{url}/elbo?elbo_sigma=0.1&model=mnist-2d-sigma0.3 | Where is σ*?\n"
        f"{url}/elbo?elbo_sigma=1&model=mnist-2d-sigma0.3 | And now?")
    teacher.page.get_by_role("combobox", name="Pin it on a class").click()
    teacher.page.get_by_role("option", name=re.compile(code)).click()
    wait_idle(teacher.page, timeout=60)
    teacher.click("button", "Save the lesson")
    lesson_link = teacher.page.locator("[data-testid=stCode] code").last.inner_text()
    students = []
    for name, pick in (("Ada", "½"), ("Bo", "0")):  # two: a class of three votes twice in test_peer_browser
        student = people(url)
        student.join_class(code, name)
        student.page.get_by_text("Lessons:").wait_for()
        student.page.goto(lesson_link)
        wait_idle(student.page, since=0, start_timeout=10, timeout=120)
        student.page.get_by_role("link", name=re.compile("Start the lesson")).click()
        student.page.get_by_text("step 1 of 3").wait_for(timeout=90_000)
        wait_idle(student.page, timeout=120)
        expect(student.page.get_by_test_id("stSidebar")).to_be_hidden(timeout=30_000)  # the step's lesson mode (waits:
        # in CI under load, once, the sidebar was read before the style that hides it came)
        student.page.get_by_test_id("stRadio").filter(has_text="Your prediction").get_by_text(pick, exact=True).click()
        wait_idle(student.page, timeout=60)
        student.page.get_by_test_id("stRadio").filter(has_text="How sure are you?").get_by_text("sure", exact=True).click()
        wait_idle(student.page, timeout=60)
        student.click("button", "Lock in my prediction")
        student.page.get_by_text("Your teacher reveals the answer").wait_for()
        students.append(student)
    engine = db.engine(database)
    klass = classes.find(engine, code)
    assert polls.answers_of(engine, klass) == {"kl-printed": {"½": 1, "0": 1}}
    teacher.open(f"class?class={code}")
    teacher.page.get_by_role("tab", name="Predictions").click()
    teacher.page.get_by_role("button", name="Reveal to the class").wait_for(timeout=30_000)
    teacher.page.screenshot(path=ARTIFACTS / "class-predictions.png", full_page=True)
    teacher.click("button", "Reveal to the class")
    students[1].page.get_by_text("the answer is ½").wait_for(timeout=20_000)  # its fragment looks again
    students[0].page.get_by_text(re.compile("Right: ½")).wait_for(timeout=20_000)
    # Next on the lesson's bar: step 2, the ELBO page as the link set it.
    students[0].page.get_by_role("link", name=re.compile("Next")).click()
    students[0].page.get_by_text("step 2 of 3").wait_for(timeout=90_000)
    students[0].page.get_by_text("Where is σ*?").wait_for()
    wait_idle(students[0].page, timeout=120)
    students[0].page.get_by_text("equivalent β = 2σ²").wait_for()
    assert "σ = 0.1" in students[0].page.get_by_test_id("stMain").inner_text()
    assert not lint(students[0].page), lint(students[0].page)
    for person in [teacher, *students]:
        assert not person.console.take()
