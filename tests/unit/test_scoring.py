"""The scoring queue (classroom/scoring) on SQLite and PostgreSQL: fair across owners, each job done once by a pool of
threads, a killed worker's job taken again, a Submit that waits for its measurement and lands once, a refused one
refused at once; Save's leftover files swept at start; a database of schema 2 migrated."""
import os
import signal
import subprocess
import sys
import threading
import time

import pytest
from sqlalchemy import select

from classroom import Refused, classes, db, identity, models, scoring
from tests.support import ROOT
from tests.support.databases import schema_2
from tests.support.databases import fresh_database

FIGURES = {"latent_dim": 2, "likelihood": "gaussian", "sigma_dec": 0.3, "beta": 1.0, "steps": 100, "elbo": 40.0,
           "rate": 7.0, "distortion": 12.0, "log_px_iwae": 46.0, "iwae_images": 10000, "active_units": 2,
           "iw_samples": 5}


@pytest.fixture(params=["sqlite", "postgresql"])
def engine(request, tmp_path):
    with fresh_database(request.param, tmp_path) as url:
        yield db.engine(url)


def someone() -> str:
    return identity.of_browser(identity.new_key())


def fake_score(calls=None, pause=0.0):
    """A scorer that counts its calls per checkpoint and reports progress, as ui/evaluation.score does."""
    lock = threading.Lock()

    def score(data, on_progress):
        with lock:
            if calls is not None:
                calls[data] = calls.get(data, 0) + 1
        for done in range(1, 5):
            time.sleep(pause / 4)
            on_progress(done, 4)
        return data + b"+scored", dict(FIGURES), b"png"
    return score


def keep(engine, owner, name, measure=True):
    return models.save(engine, owner, name, name.encode(), "mnist", measure=measure)


def test_the_owner_served_least_recently_goes_first(engine):
    """One student's five saves never go ahead of four classmates' one each."""
    greedy, others = someone(), [someone() for _ in range(3)]
    for i in range(5):
        keep(engine, greedy, f"greedy-{i}")
    for i, owner in enumerate(others):
        keep(engine, owner, f"other-{i}")
    order = []
    for t in range(8):
        job = scoring.claim(engine, "worker", now=1000.0 + t)
        order.append(models.find(engine, f"other-{others.index(job.owner)}").name if job.owner in others
                     else "greedy")
        assert scoring.finish(engine, job, "worker", b"x", FIGURES, b"png")
    assert order == ["greedy", "other-0", "other-1", "other-2", "greedy", "greedy", "greedy", "greedy"]
    assert scoring.claim(engine, "worker") is None


def test_a_pool_of_threads_measures_every_job_once_and_stops(engine):
    owners = [someone() for _ in range(3)]
    for i in range(12):
        keep(engine, owners[i % 3], f"model-{i}")
    calls = {}
    before = threading.active_count()
    pool = scoring.Pool(engine, fake_score(calls, pause=0.02), workers=3, poll=0.05).start()
    deadline = time.monotonic() + 60
    while any(scoring.job_of(engine, models.find(engine, f"model-{i}").id).state != "done" for i in range(12)):
        assert time.monotonic() < deadline, "the pool did not finish the queue"
        time.sleep(0.05)
    pool.stop()
    assert calls == {f"model-{i}".encode(): 1 for i in range(12)}  # each once, none twice
    assert models.data(engine, models.find(engine, "model-3").id) == b"model-3+scored"  # the scored checkpoint kept
    assert not any(thread.is_alive() for thread in pool.threads) and threading.active_count() == before


def test_a_pool_stopped_mid_measurement_puts_its_job_back_in_the_queue(engine):
    model = keep(engine, someone(), "interrupted")
    started = threading.Event()

    def slow(data, on_progress):
        started.set()
        for done in range(1, 1000):
            time.sleep(0.01)
            on_progress(done, 1000)
        return data, dict(FIGURES), b"png"

    pool = scoring.Pool(engine, slow, workers=1, poll=0.05).start()
    assert started.wait(30)
    pool.stop()
    assert not any(thread.is_alive() for thread in pool.threads)
    with engine.connect() as connection:
        row = connection.execute(select(db.scoring_jobs).where(db.scoring_jobs.c.model_id == model.id)).one()
    assert (row.state, row.holder, row.attempts) == ("queued", None, 0)
    assert scoring.drain(engine, fake_score()) == 1 and scoring.job_of(engine, model.id).state == "done"


def test_a_killed_workers_job_is_taken_again_and_its_late_finish_refused(engine, monkeypatch):
    """A process SIGKILLed while it measures: its job is running with an old heartbeat, and another worker takes it."""
    owner = someone()
    model = keep(engine, owner, "orphan")
    script = ("import sys, time; from classroom import db, scoring\n"
              "engine = db.engine(sys.argv[1]); job = scoring.claim(engine, 'doomed')\n"
              "scoring.beat(engine, 'doomed', 0.4, job.id); print('claimed', flush=True); time.sleep(60)")
    child = subprocess.Popen([sys.executable, "-c", script, str(engine.url.render_as_string(hide_password=False))],
                             cwd=ROOT, stdout=subprocess.PIPE, text=True)
    try:
        assert child.stdout.readline().strip() == "claimed"
        os.kill(child.pid, signal.SIGKILL)
    finally:
        child.wait(10)
    job = scoring.job_of(engine, model.id)
    assert job.state == "running" and job.progress == pytest.approx(0.4)
    assert scoring.claim(engine, "fresh") is None  # its heartbeat is recent: not taken yet
    monkeypatch.setattr(scoring, "STALE", 0.2)
    time.sleep(0.3)
    assert scoring.drain(engine, fake_score()) == 1
    assert scoring.job_of(engine, model.id).state == "done"
    assert not scoring.finish(engine, job, "doomed", b"late", FIGURES, b"png")  # the dead one's claim is gone
    assert models.data(engine, model.id) == b"orphan+scored"


def test_a_job_whose_workers_keep_dying_fails_and_its_waiting_submission_is_refused(engine, monkeypatch):
    monkeypatch.setattr(scoring, "STALE", -1.0)  # every running job looks dead at once
    owner, teacher = someone(), someone()
    klass, _ = classes.create(engine, teacher, "Period 1")
    classes.join(engine, klass, owner, "Ada")
    model = keep(engine, owner, "cursed")
    assert scoring.submit(engine, klass, owner, model.id) is None
    for _ in range(scoring.MAX_ATTEMPTS):
        assert scoring.claim(engine, "dies") is not None
    assert scoring.claim(engine, "dies") is None
    assert scoring.job_of(engine, model.id).state == "failed"
    ((_, _, state, message),) = scoring.waiting(engine, model.id, owner)
    assert state == "refused" and "could not be measured" in message


def test_a_submit_before_the_measurement_waits_and_lands_once(engine):
    owner, teacher = someone(), someone()
    klass, _ = classes.create(engine, teacher, "Period 2")
    classes.join(engine, klass, owner, "Ada")
    model = keep(engine, owner, "early")
    assert scoring.submit(engine, klass, owner, model.id) is None  # kept, waiting
    with pytest.raises(Refused, match="already waiting"):
        scoring.submit(engine, klass, owner, model.id)
    assert classes.board(engine, klass) == []
    assert [w[2] for w in scoring.waiting(engine, model.id, owner)] == ["waiting"]
    assert scoring.drain(engine, fake_score()) == 1
    (entry,) = classes.board(engine, klass)
    assert entry["model"] == "early" and entry["elbo"] == 40.0
    assert scoring.waiting(engine, model.id, owner) == []
    with pytest.raises(Refused, match="on the board already"):
        scoring.submit(engine, klass, owner, model.id)
    later = keep(engine, owner, "measured-first")
    scoring.drain(engine, fake_score())
    assert scoring.submit(engine, klass, owner, later.id)["elbo"] == 40.0  # measured: on the board at once
    assert [e["model"] for e in classes.board(engine, klass)] == ["early", "measured-first"]


def test_a_submission_left_half_done_by_a_killed_worker_lands_once(engine, monkeypatch):
    """A worker claimed a waiting submission and died, before or after writing the entry: another carries it out
    once its claim is STALE seconds old, and never writes the entry twice."""

    owner, teacher = someone(), someone()
    klass, _ = classes.create(engine, teacher, "Period 5")
    classes.join(engine, klass, owner, "Ada")
    before, after = keep(engine, owner, "died-before"), keep(engine, owner, "died-after")
    for model in (before, after):
        assert scoring.submit(engine, klass, owner, model.id) is None
    scoring.drain(engine, lambda data, on_progress: (data, dict(FIGURES), b"png"))  # jobs done; waits settled…
    assert len(classes.board(engine, klass)) == 2
    with engine.begin() as connection:  # …so put both back as a dead worker leaves them, one entry written already
        connection.execute(db.submissions.delete().where(db.submissions.c.model_id == before.id))
        for model in (before, after):
            connection.execute(db.waiting_submissions.insert().values(
                model_id=model.id, class_id=klass.id, identity=owner, state="submitting", created=time.time(),
                claimed=time.time()))
    assert scoring.settle(engine) == 0  # claimed just now: left to its worker
    assert scoring.settle(engine, now=time.time() + scoring.STALE + 1) == 1
    assert sorted(e["model"] for e in classes.board(engine, klass)) == ["died-after", "died-before"]
    assert scoring.waiting(engine, before.id, owner) == scoring.waiting(engine, after.id, owner) == []


def test_a_submit_to_a_frozen_class_is_refused_at_once_and_forgotten(engine):
    owner, teacher = someone(), someone()
    klass, _ = classes.create(engine, teacher, "Period 3")
    classes.join(engine, klass, owner, "Ada")
    model = keep(engine, owner, "frozen-out", measure=False)
    classes.set_frozen(engine, klass, teacher, True)
    with pytest.raises(Refused, match="frozen"):
        scoring.submit(engine, klass, owner, model.id)
    assert scoring.waiting(engine, model.id, owner) == [] and scoring.job_of(engine, model.id) is None
    classes.set_frozen(engine, klass, teacher, False)
    scoring.drain(engine, fake_score())
    assert classes.board(engine, klass) == []  # the unfreeze lands nothing


def test_a_class_frozen_while_the_model_is_measured_refuses_it_with_a_message_read_once(engine):
    owner, teacher = someone(), someone()
    klass, _ = classes.create(engine, teacher, "Period 4")
    classes.join(engine, klass, owner, "Ada")
    model = keep(engine, owner, "too-late")
    assert scoring.submit(engine, klass, owner, model.id) is None
    classes.set_frozen(engine, klass, teacher, True)
    scoring.drain(engine, fake_score())
    assert classes.board(engine, klass) == []
    ((wait_id, _, state, message),) = scoring.waiting(engine, model.id, owner)
    assert state == "refused" and "frozen" in message and "Period 4" in message
    scoring.forget_refusal(engine, wait_id, someone())  # not theirs: kept
    assert scoring.waiting(engine, model.id, owner)
    scoring.forget_refusal(engine, wait_id, owner)
    assert scoring.waiting(engine, model.id, owner) == []
    classes.set_frozen(engine, klass, teacher, False)
    scoring.settle(engine)
    assert classes.board(engine, klass) == []


def test_deleting_a_model_being_measured_drops_its_job(engine):
    owner = someone()
    model = keep(engine, owner, "short-lived")
    job = scoring.claim(engine, "worker")
    models.delete_mine(engine, owner, model.id)
    assert scoring.job_of(engine, model.id) is None
    assert not scoring.beat(engine, "worker", 0.5, job.id)
    assert not scoring.finish(engine, job, "worker", b"x", FIGURES, b"png")


def test_save_leftovers_of_dead_processes_are_swept_and_live_ones_kept(tmp_path):
    import socket

    host = socket.gethostname()
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    files = {"dead": tmp_path / f"live-{host}-{dead.pid}-ab12.safetensors",
             "mine": tmp_path / f"live-{host}-{os.getpid()}-cd34.safetensors",
             "other-host": tmp_path / f"live-elsewhere-{os.getpid()}-ef56.safetensors",
             "old": tmp_path / "live-0123456789abcdef.safetensors"}
    for path in files.values():
        path.write_bytes(b"x")
    stale = time.time() - scoring.TMP_BOUND - 10
    os.utime(files["old"], (stale, stale))
    removed = scoring.clean_tmp(tmp_path)
    assert sorted(p.name for p in removed) == sorted([files["dead"].name, files["old"].name])
    assert files["mine"].exists() and files["other-host"].exists()


def test_a_database_of_schema_2_gets_the_queue(tmp_path):
    from sqlalchemy import create_engine, inspect

    url = f"sqlite:///{tmp_path / 'old.sqlite3'}"
    old = create_engine(url)
    with old.begin() as connection:
        schema_2(connection)
    old.dispose()
    engine = db.engine(url)
    try:
        assert {"scoring_jobs", "waiting_submissions"} <= set(inspect(engine).get_table_names())
        owner = someone()
        model = keep(engine, owner, "after-migration")
        assert scoring.drain(engine, fake_score()) == 1
        with engine.connect() as connection:
            assert connection.execute(select(db.scoring_jobs.c.state)).scalar_one() == "done"
        assert scoring.job_of(engine, model.id).result["elbo"] == 40.0
    finally:
        db.forget(url)
