"""A class in Chromium: each student a browser of their own (a context: its own localStorage and cookies), a
teacher, and two app servers sharing one PostgreSQL class. What one makes, another does not see, change or delete
unless it is shared; the board fills in as submissions arrive."""
import csv
import io
import re
import time

import torch
from playwright.sync_api import expect

from classroom import classes, db, identity, models, scoring
from tests.support import ROOT
from tests.support.databases import fresh_database
from tests.support.figure_lint import lint
from tests.support.people import Person
from tests.support.server import needs_chromium, streamlit_server
from tests.support.walk import wait_idle
from vae import VAE, VAEConfig, checkpoint

needs_chromium()
ARTIFACTS = ROOT / "test-artifacts"


def small_checkpoint(seed: int, sigma: float = 0.3) -> bytes:
    torch.manual_seed(seed)
    return checkpoint.to_bytes(VAE(VAEConfig(latent_dim=2, hidden=(32,), sigma_dec=sigma)), meta={"steps": seed})


def upload(person: Person, name: str, data: bytes) -> None:
    person.go("Models")
    person.page.get_by_test_id("stFileUploaderDropzoneInput").set_input_files(
        files=[{"name": f"{name}.safetensors", "mimeType": "application/octet-stream", "buffer": data}])
    person.page.get_by_text("Valid:").wait_for()
    wait_idle(person.page, timeout=60)
    # the file's own name is offered, also for a second upload in the same session (it offered the first one's)
    expect(person.page.get_by_role("textbox", name="Save as")).to_have_value(name)
    person.click("button", "Keep it")
    person.page.get_by_text("it is yours").wait_for()


def submit_from_models_page(person: Person, name: str) -> None:
    """Submit `name` from the Models page, where `upload` leaves the person (the list redrawn with the model kept)."""
    model = person.page.get_by_test_id("stExpander").filter(has_text=f"{name}  (yours)")
    model.locator("summary").click()
    model.get_by_role("button", name=re.compile("Submit to the class")).wait_for()
    wait_idle(person.page)  # the expander done opening: a click while it grows could land beside the button
    person.click("button", re.compile("Submit to the class"), within=model)
    model.get_by_text(re.compile("^On the board of")).wait_for()  # once measured (before: "Waiting for …")


def test_two_students_save_with_the_default_name_and_each_keeps_their_own(people, class_server):
    """Both saved `live-2d-gaussian-seed0`, and the second replaced the first. Now each default name is its own;
    each model is listed, downloadable and deletable by its owner alone; a forged key sees nothing; a reload keeps
    the browser's models."""
    url, database = class_server
    saved = {}
    students = [people(url), people(url)]
    for student in students:  # two students, the same recipe, the same seed
        student.open("train?train_size=2%2C000")
        student.click("button", "Create model", timeout=120)
        student.click("button", re.compile("Step"))
        student.click("button", "Save")
        student.page.get_by_text(re.compile("Saved as .*yours")).wait_for()
        saved[student] = student.page.get_by_role("textbox", name="Name").input_value()
    a, b = students
    assert saved[a] != saved[b] and all(n.startswith("mnist-2d-sigma0.3-") for n in saved.values())
    engine = db.engine(database)
    for student in students:
        model = models.find(engine, saved[student])
        assert model.owner == identity.of_browser(student.key())
        # Measured first: the measurement stores the model again with its test figures, and a page run that lists
        # the new bytes withdraws the old download (Download.path: canceled, seen on CI)
        deadline = time.monotonic() + 120
        while scoring.job_of(engine, model.id).state != "done" and time.monotonic() < deadline:
            time.sleep(0.5)
        student.go("Models")
        mine = student.page.get_by_test_id("stExpander").filter(has_text="(yours)")
        expect(mine).to_have_count(1)  # waits for the list, as a reader does
        assert saved[student] in mine.first.inner_text()
        mine.first.locator("summary").click()
        wait_idle(student.page, timeout=60)
        with student.page.expect_download() as download:
            mine.first.get_by_role("button", name="Download").click()
        assert open(download.value.path(), "rb").read() == models.data(engine, model.id)  # byte for byte
    b.open("models")
    assert saved[a] not in b.page.get_by_test_id("stMain").inner_text()  # not listed, so no Delete either
    forged = people(url)
    forged.open("models")
    forged.page.evaluate("(key) => { localStorage.setItem('vae-browser-key', key); "
                         "document.cookie = `vae_browser_key=${key}; path=/`; }", identity.new_key())
    forged.open("models")
    assert forged.page.get_by_test_id("stExpander").filter(has_text="(yours)").count() == 0
    assert models.find(engine, saved[a]) and models.find(engine, saved[b])
    a.page.reload()
    wait_idle(a.page, since=0, start_timeout=10, timeout=120)
    assert a.page.get_by_test_id("stExpander").filter(has_text=f"{saved[a]}  (yours)").count() == 1
    assert not a.console.take() and not b.console.take()


def test_a_teacher_and_three_students_fill_the_board(people, class_server):
    url, database = class_server
    teacher = people(url)
    code = teacher.start_class("Period 3 — σ_dec and the rate")
    students = []
    sweep = ROOT / "checkpoints" / "sweeps" / "mnist-16d-sigma"
    for n, (name, sigma) in enumerate((("Ada_L", 0.1), ("Bob O'Neil", 0.5), ("Chen Wei", 1))):
        student = people(url)
        student.join_class(code, name)
        student.page.get_by_text(f"You are in this class as {name}").wait_for()  # as typed: "_" is no markup
        upload(student, f"model-{n}", (sweep / f"mnist-sweep16d-sigma{sigma}.safetensors").read_bytes())
        submit_from_models_page(student, f"model-{n}")
        students.append(student)
    engine = db.engine(database)
    klass = classes.find(engine, code)
    board = classes.board(engine, klass)
    assert sorted(r["sigma_dec"] for r in board) == [0.1, 0.5, 1.0]
    teacher.page.get_by_text("3 entries").wait_for(timeout=20_000)  # the board refreshes itself
    teacher.page.get_by_text("Ada_L, Bob O'Neil, Chen Wei").wait_for()
    points = teacher.page.evaluate("() => { const gd = document.querySelectorAll('[data-testid=stMain] .js-plotly-plot')[0];"
                                   " return gd._fullData.find(t => t.name === 'class entries').x.length; }")
    assert points == 3
    assert not lint(teacher.page), lint(teacher.page)
    ARTIFACTS.mkdir(exist_ok=True)
    teacher.page.screenshot(path=ARTIFACTS / "class-board-teacher.png", full_page=True)
    with teacher.page.expect_download() as download:
        teacher.page.get_by_role("button", name="Download the board (CSV)").click()
    rows = list(csv.DictReader(io.StringIO(open(download.value.path(), encoding="utf-8-sig").read())))
    assert sorted(r["student"] for r in rows) == ["Ada_L", "Bob O'Neil", "Chen Wei"]
    assert {r["ELBO"] for r in rows} == {str(r["elbo"]) for r in board}
    # The teacher hides Bob's entry: the students' boards show two.
    entry = teacher.page.get_by_role("combobox", name="Entry")
    entry.click()
    teacher.page.get_by_role("option", name=re.compile("Bob")).click()
    wait_idle(teacher.page, timeout=60)
    teacher.click("button", "Hide")
    students[0].open(f"class?class={code}")
    students[0].page.get_by_text("2 entries").wait_for(timeout=20_000)
    students[0].page.screenshot(path=ARTIFACTS / "class-board-student.png", full_page=True)
    # A classmate's model opens in Explore from the board.
    entry = students[0].page.get_by_role("combobox", name="Entry")
    entry.click()
    students[0].page.get_by_role("option", name=re.compile("Chen")).click()
    wait_idle(students[0].page, timeout=60)
    students[0].click("button", "Open in Explore")
    students[0].page.get_by_role("heading", name="Explore the latent space").wait_for()
    assert students[0].page.get_by_role("combobox", name="Model").input_value().startswith("model-2")
    # Frozen: a submission is refused with a message, and nothing is added. (The teacher's tab still shows the board;
    # `upload` leaves the student on the Models page, its list redrawn with the model kept.)
    teacher.page.get_by_text("Freeze submissions").click()
    wait_idle(teacher.page, timeout=60)
    upload(students[1], "late-model", small_checkpoint(9))
    late = students[1].page.get_by_test_id("stExpander").filter(has_text="late-model  (yours)")
    late.locator("summary").click()
    assert late.get_by_role("button", name=re.compile("Submit to the class")).count() == 0  # none offered
    assert len(classes.board(engine, klass, with_hidden=True)) == 3
    for person in [teacher, *students]:
        assert not person.console.take()


def test_two_app_servers_share_one_postgresql_class(people, mnist_dir, tmp_path):
    """A student on server A submits; the teacher on server B sees it on the board and opens the model there."""
    with fresh_database("postgresql", tmp_path) as database:
        engine = db.engine(database)
        environments = [{"VAE_DATA_DIR": str(mnist_dir), "VAE_DATABASE_URL": database,
                         "VAE_STATE_DIR": str(tmp_path / name)} for name in ("a", "b")]
        with streamlit_server(environments[0]) as (url_a, _, _), streamlit_server(environments[1]) as (url_b, _, _):
            teacher = people(url_b)
            code = teacher.start_class("Two servers")
            student = people(url_a)
            student.join_class(code, "Dana")
            upload(student, "dana-model", small_checkpoint(4, 0.3))
            submit_from_models_page(student, "dana-model")
            teacher.page.get_by_text("1 entry").wait_for(timeout=20_000)  # on server B, refreshed from the database
            teacher.click("button", "Open in Explore")
            teacher.page.get_by_role("heading", name="Explore the latent space").wait_for()
            assert teacher.page.get_by_role("combobox", name="Model").input_value().startswith("dana-model")
            teacher.page.locator("[data-testid=stMain] .js-plotly-plot").first.wait_for()
            assert (tmp_path / "b" / "models").exists()  # B wrote its own copy of the checkpoint, from the database
            assert [r["student"] for r in classes.board(engine, classes.find(engine, code))] == ["Dana"]
            assert not teacher.console.take() and not student.console.take()
