"""A person at the class's server: one browser of their own (a Playwright context, so its own localStorage, cookies
and browser key) with one tab, watched for console errors."""
from tests.support.figure_lint import Console
from tests.support.walk import VIEWPORT, current_page, goto_page, runs, wait_idle, watch


class Person:
    """One browser (a Playwright context: its own storage, so its own key) with one tab."""

    def __init__(self, browser, url: str):
        self.context = browser.new_context(viewport=VIEWPORT)
        self.page = self.context.new_page()
        self.page.set_default_timeout(90_000)
        watch(self.page)
        self.console = Console(self.page)
        self.url = url

    def open(self, path: str) -> None:
        self.page.goto(f"{self.url}/{path}")
        wait_idle(self.page, since=0, start_timeout=10, timeout=120)

    def go(self, title: str) -> None:
        """To the page `title` as a person does once the app is open: its link in the sidebar (the same session, no
        page load: Streamlit's and Plotly's scripts are not run again). Nothing when it is the page shown."""
        if current_page(self.page) != title:
            goto_page(self.page, title, timeout=120)

    def click(self, role: str, name, timeout: float = 180, within=None) -> None:
        """Click the first `role` named `name` (on the page, or `within` a locator), then wait for the run it starts."""
        before = runs(self.page)
        (within or self.page).get_by_role(role, name=name, exact=isinstance(name, str)).first.click()
        wait_idle(self.page, since=before, timeout=timeout)

    def fill(self, label: str, value: str) -> None:
        self.page.get_by_role("textbox", name=label).fill(value)

    def start_class(self, title: str) -> str:
        """As a teacher: start a class on the Class page; its code."""
        self.open("class")
        self.fill("Title", title)
        self.click("button", "Start the class")
        return self.page.get_by_test_id("stMetricValue").first.inner_text().strip()

    def join_class(self, code: str, name: str) -> None:
        """As a student: open the class's join link and join under `name`."""
        self.open(f"class?join={code}")
        self.fill("Your name in the class", name)
        self.click("button", "Join the class")

    def key(self) -> str:
        return self.page.evaluate("() => localStorage.getItem('vae-browser-key')")

    def close(self) -> None:
        self.context.close()
