"""Browser tests: one `streamlit run serve.py` and one headless Chromium for the whole run (tests/support/server.py).

Each test opens its own tab (a Streamlit session of its own) in the browser's one shared context (walk.new_session:
one browser key for all those tabs, so no test there counts on a fresh key), or a context of its own (a browser of its
own: its own key, so its own models); what a test makes on the server is kept apart by that key, or by a class's code.
"""
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.support.server import chromium, needs_chromium, streamlit_server
from tests.support.walk import describe


@dataclass(frozen=True)
class Served:
    url: str
    state: Path  # the server's VAE_STATE_DIR
    database: str  # its class store's URL, which a test may read too


@pytest.fixture(scope="session")
def browser():
    needs_chromium()
    with chromium() as browser:
        yield browser


@pytest.fixture(scope="session")
def served(mnist_dir, tmp_path_factory) -> Served:
    """The run's one app server, on real MNIST, with a state folder of its own."""
    state = tmp_path_factory.mktemp("server-state")
    # Save scores with K = 5 (ui/evaluation.iw_samples): the browser tests check the flow, tests/app the figures.
    with streamlit_server({"VAE_DATA_DIR": str(mnist_dir), "VAE_STATE_DIR": str(state),
                           "VAE_SCORE_IW_SAMPLES": "5"}) as (url, _, _):
        yield Served(url, state, f"sqlite:///{state / 'lab.sqlite3'}")


@pytest.fixture(scope="session")
def server(served) -> str:
    return served.url


@pytest.fixture(scope="session")
def class_server(served) -> tuple[str, str]:
    """(url, database URL) of the run's server, whose SQLite class store the test reads too."""
    return served.url, served.database


@pytest.fixture
def people(browser):
    """people(url) → a new Person (a browser context of their own) at `url`; all closed after the test."""
    from tests.support.people import Person

    made = []

    def person(url):
        made.append(Person(browser, url))
        return made[-1]

    yield person
    for p in made:
        p.close()


def pytest_collection_modifyitems(items):
    """Under pytest-xdist (--dist loadgroup) the browser tests on the run's server go to one worker: one server and one
    Chromium for the layer, and no two browser journeys (a class of several browsers) fighting for the cores; the other
    workers take the unit and app layers. The few that start servers of their own need only a Chromium: they are a
    group of their own, which the scheduler (largest group first) gives another worker at the start."""
    for item in items:
        if "browser" in item.keywords:
            own = "served" not in item.fixturenames
            item.add_marker(pytest.mark.xdist_group("browser-own-servers" if own else "browser"))


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    """When a browser test fails, what every tab still open showed (tests/support/walk.describe): CI prints only
    text. A tab from walk.new_session says it in the error itself, as it closes."""
    outcome = yield
    report = outcome.get_result()
    browser = item.funcargs.get("browser") if hasattr(item, "funcargs") else None
    if report.when != "call" or not report.failed or browser is None:
        return
    pages = [page for context in browser.contexts for page in context.pages
             if not page.url.endswith("/_stcore/health")]  # walk.new_session's parked tab
    for n, page in enumerate(pages):
        report.sections.append((f"tab {n} when {item.name} failed", describe(page, f"{item.name}-{n}")))
