"""The class hour's quiet surprises, each held here: a checkpoint submitted again under another member's name, a closed
class gone from a student's list, a hidden entry its teacher could not open, the board's colour bar and CSV, and
tracebacks in the browser."""
import math
import tomllib

import numpy as np
import pytest

from classroom import Refused, classes, db, identity, models
from tests.support import ROOT
from ui import board, plots

FIGURES = {"latent_dim": 2, "likelihood": "gaussian", "sigma_dec": 0.3, "beta": 1.0, "steps": 100, "elbo": 40.0,
           "rate": 7.0, "distortion": 12.0, "log_px_iwae": 46.0, "iwae_images": 1000, "active_units": 2}


def someone() -> str:
    return identity.of_browser(identity.new_key())


@pytest.fixture
def engine():
    return db.engine()


def test_a_checkpoint_byte_identical_to_another_members_entry_is_marked_for_the_teacher(engine):
    teacher, ada, bob, cy = someone(), someone(), someone(), someone()
    klass, _ = classes.create(engine, teacher, "Copies")
    for who, name in ((ada, "Ada"), (bob, "Bob"), (cy, "Cy")):
        classes.join(engine, klass, who, name)
    original = b"weights" * 100
    entries = []
    for who, model, data in ((ada, "adas", original), (ada, "adas-again", original), (bob, "bobs", original),
                             (cy, "cys", b"other" * 100)):
        saved = models.save(engine, who, model, data, "mnist")  # Bob downloaded Ada's file and uploaded it
        entries.append(classes.submit(engine, klass, who, saved.id, FIGURES, b"png"))
    rows = classes.board(engine, klass, with_hidden=True)
    # Ada's own second upload of her file is no copy of another member's; Bob's is; Cy's file is her own
    assert [r["copy_of"] for r in rows] == [None, None, f"#{entries[0]} Ada", None]
    frame = board.table(rows, teacher=True)
    assert list(frame.columns[:2]) == ["hidden", "same file as"]  # first: in sight without scrolling
    assert list(frame["same file as"]) == ["", "", f"#{entries[0]} Ada", ""]  # blank, not "None", for the others
    student_frame = board.table(classes.board(engine, klass), teacher=False)
    assert "same file as" not in student_frame.columns and "hidden" not in student_frame.columns


def test_the_board_csv_opens_in_a_spreadsheet_with_its_greek_headers(engine):
    rows = [{"entry": 1, "student": "Zoë", "model": "m", "hidden": False, "created": 0.0, "copy_of": None,
             **FIGURES}]
    data = board.csv_bytes(board.table(rows, teacher=False).drop(columns=["entry"]))
    assert data.startswith(b"\xef\xbb\xbf")  # the byte-order mark Excel needs to read UTF-8
    header = data.decode("utf-8-sig").splitlines()[0].split(",")
    assert "σ_dec" in header and "β" in header and "Zoë" in data.decode("utf-8-sig")


def test_a_closed_class_stays_in_its_students_list_and_only_there(engine):
    teacher, ada = someone(), someone()
    open_class, _ = classes.create(engine, teacher, "Open")
    closed_class, _ = classes.create(engine, teacher, "Closed")
    for klass in (open_class, closed_class):
        classes.join(engine, klass, ada, "Ada")
    classes.close(engine, closed_class, teacher)
    assert [c.title for c, _ in classes.classes_of(engine, ada)] == ["Open"]  # Submit and Learn: open ones only
    listed = classes.classes_of(engine, ada, closed=True)
    assert [(c.title, c.closed, m.name) for c, m in listed] == [("Open", False, "Ada"), ("Closed", True, "Ada")]


def test_the_teacher_may_open_a_hidden_entry_and_its_classmates_may_not(engine):
    teacher, ada, bob = someone(), someone(), someone()
    klass, _ = classes.create(engine, teacher, "Hidden")
    classes.join(engine, klass, ada, "Ada")
    classes.join(engine, klass, bob, "Bob")
    model = models.save(engine, ada, "adas-model", b"x" * 100, "mnist")
    entry = classes.submit(engine, klass, ada, model.id, FIGURES, b"png")
    classes.set_hidden(engine, klass, teacher, entry, True)
    assert [m.name for m in models.shared_with(engine, teacher)] == ["adas-model"]
    assert models.shared_with(engine, bob) == []
    other_teacher = someone()
    classes.create(engine, other_teacher, "Another class")
    assert models.shared_with(engine, other_teacher) == []  # teaching some class is not teaching this one
    with pytest.raises(Refused):
        classes.set_hidden(engine, klass, bob, entry, False)


@pytest.mark.parametrize("values, expected", [
    ([0.5], ["0.5"]),  # one entry: one label (0.5 and 0.51 were drawn over each other)
    ([0.5, 0.51], ["0.5", "0.51"]),
    ([1, 4], ["1", "2", "4"]),  # β from 1 to 4: the top was not labelled
    ([1, 2, 3, 4], ["1", "2", "4"]),
    ([0.1, 0.3, 1], ["0.1", "0.2", "0.5", "1"]),
    ([0.05, 4], ["0.05", "0.1", "0.2", "0.5", "1", "2", "4"]),
])
def test_the_boards_colour_bar_labels_its_ends_and_keeps_its_labels_apart(values, expected):
    rows = [dict(FIGURES, entry=n, beta=v, sigma_dec=v) for n, v in enumerate(values)]
    for colour in ("β", "σ_dec"):
        marker = plots.class_board(rows, [], colour).data[-1].marker
        ticks, labels = list(marker.colorbar.tickvals), list(marker.colorbar.ticktext)
        assert labels == expected
        assert marker.cmin < marker.cmax
        assert all(marker.cmin - 1e-9 <= t <= marker.cmax + 1e-9 for t in ticks)  # none falls off the bar
        assert math.isclose(ticks[-1], math.log10(max(values))) and math.isclose(ticks[0], math.log10(min(values)))
        if len(ticks) > 1:
            assert min(np.diff(ticks)) >= 0.1 * (marker.cmax - marker.cmin)  # apart by a tenth of the bar at least


def test_the_server_shows_no_traceback_in_the_browser():
    """Streamlit 1.67's client.showErrorDetails: "full" (its default) sends each uncaught exception's message and
    traceback to the browser; "type" its type; "none" a generic message only (the log keeps the rest)."""
    config = tomllib.loads((ROOT / ".streamlit" / "config.toml").read_text())
    assert config["client"]["showErrorDetails"] == "none"
