"""Links in Chromium: /learn opens the Learn page; a lesson step whose stored link hides σ_dec = 1 keeps it hidden and
at 1.0 when the student's address lost hide=, through Create model and the live sliders."""
from playwright.sync_api import expect

from classroom import db, identity, lessons
from tests.support.server import needs_chromium
from tests.support.walk import new_session, wait_idle

needs_chromium()


def test_learn_by_its_name_opens_the_learn_page(browser, server):
    """/learn was "Page not found" (the Learn page is served at /)."""
    with new_session(browser, f"{server}/learn?learn_step=3&model=mnist-2d-sigma0.3", timeout=120) as page:
        page.get_by_text("Step 3 of 11").wait_for(timeout=90_000)
        expect(page.get_by_text("Page not found")).to_have_count(0)


def test_a_lesson_step_keeps_sigma_hidden_at_one_through_create_model(browser, class_server):
    url, database = class_server
    lesson = lessons.create(db.engine(database), identity.of_browser("L" * 43), "σ_dec = 1",
                            [{"link": "/train?train_sigma=1&train_size=2%2C000&view=lesson&hide=train_sigma",
                              "note": "Train it at σ_dec = 1."}, {"link": "/elbo", "note": "Then look."}])
    # The student's address: hide= and view= deleted, σ_dec changed.
    with new_session(browser, f"{url}/train?train_sigma=0.5&lesson={lesson.code}&lesson_step=1", timeout=120) as page:
        page.get_by_text("step 1 of 2").wait_for(timeout=90_000)
        expect(page.locator(".st-key-train_sigma")).to_be_hidden()
        expect(page.get_by_test_id("stSidebar")).to_be_hidden()
        expect(page.get_by_role("link", name="Back to the lesson's view")).to_be_visible()
        page.get_by_role("button", name="Create model").click()
        page.locator(".st-key-live_mode").wait_for(timeout=90_000)
        wait_idle(page, timeout=120)
        expect(page.locator(".st-key-live_sigma")).to_have_count(1)
        expect(page.locator(".st-key-live_sigma")).to_be_hidden()
        page.get_by_role("button", name="Stop").click()
        wait_idle(page, timeout=60)
