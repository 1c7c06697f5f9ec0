"""The class hour in Chromium: a refusal stays on screen until its reader dismisses it (a wrong teacher link's
vanished 1.4 s after it was shown, erased by the run that took the key out of the address), and a look-alike name
is refused there, naming who has it."""
import time

from playwright.sync_api import expect

from tests.support.server import needs_chromium
from tests.support.walk import runs, wait_idle

needs_chromium()


def test_refusals_stay_until_dismissed_and_a_look_alike_name_is_refused(class_server, people):
    url, _ = class_server
    teacher = people(url)
    code = teacher.start_class("The hour")
    stranger = people(url)
    stranger.open(f"class?class={code}&key={'x' * 43}")
    refusal = stranger.page.get_by_text("That teacher link's key does not open this class")
    refusal.wait_for()
    before = runs(stranger.page)
    stranger.page.locator("body").press("r")  # Streamlit's rerun key: the second run that erased it
    wait_idle(stranger.page, since=before)
    assert runs(stranger.page) > before
    time.sleep(2)
    expect(refusal).to_be_visible()
    assert "key=" not in stranger.page.url
    stranger.click("button", "Dismiss")
    expect(refusal).to_have_count(0)

    ada = people(url)
    ada.join_class(code, "Ada")
    ada.page.get_by_text("You are in this class as Ada").wait_for()
    stranger.open(f"class?join={code}")
    stranger.fill("Your name in the class", "\u0430da")  # a Cyrillic а
    stranger.click("button", "Join the class")
    taken = stranger.page.get_by_text("goes by a name that reads the same, Ada")
    taken.wait_for()
    time.sleep(2)
    expect(taken).to_be_visible()
