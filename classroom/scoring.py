"""Scoring queued apart from Save: a saved model is kept and listed at once, and measured on the test split later by a
small pool of threads in each server process, fairly across the class.

The queue is a table (db.scoring_jobs, one job per model), so nothing is lost when a tab closes or a server restarts:
a job is taken in a transaction by one worker, which beats its heartbeat while it works; the job of a process that
was killed (its heartbeat older than STALE seconds) is taken again by another, at most MAX_ATTEMPTS times. Of the jobs
waiting, a worker takes the one whose owner was served least recently (one student's five saves never go ahead of
four classmates' one each). A "Submit to the class" of a model not measured yet waits in db.waiting_submissions and is
carried out by whoever finishes the measurement; a submission the class refuses is refused at once.

No Streamlit here: the pool takes the scoring function (ui/evaluation.score) and is started by ui/scoring.
"""
from __future__ import annotations

import json
import os
import socket
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import and_, func, insert, or_, select, update

from . import Refused, classes
from .db import classes as classes_table, models, scoring_jobs as jobs, submissions, waiting_submissions

STALE = 30.0  # seconds without a heartbeat after which a running job's process is taken for dead
BEAT = 5.0  # seconds between a worker's heartbeats
POLL = 2.0  # seconds an idle worker waits before it looks at the queue again (other servers' jobs)
MAX_ATTEMPTS = 3  # a job whose process died this many times is given up (failed), not retried for ever
TMP_BOUND = 600.0  # seconds after which a file left in the state folder's tmp/ is an orphan whatever wrote it
NICENESS = 10  # a scoring thread's nice value: behind the pages, beside the training processes (vae/live)


@dataclass(frozen=True)
class Job:
    id: int
    model_id: int
    owner: str
    state: str
    progress: float
    error: str | None
    result: dict | None


class Lost(Exception):
    """The job is no longer this worker's: its model was deleted, or another process took it as stale."""


def holder_name() -> str:
    """This thread's name in the queue: host, process id, thread id."""
    return f"{socket.gethostname()}:{os.getpid()}:{threading.get_ident()}"


_arrived = threading.Event()  # set when this process queues a job: its idle workers look at once


def enqueue(connection, model_id: int, owner: str) -> None:
    """Queue model `model_id`'s measurement in the caller's transaction (nothing when it has a job already)."""
    if connection.execute(select(jobs.c.id).where(jobs.c.model_id == model_id)).first() is None:
        connection.execute(insert(jobs).values(model_id=model_id, owner=owner, state="queued", progress=0.0,
                                               attempts=0, created=time.time()))
    _arrived.set()


def _job(row) -> Job:
    return Job(row.id, row.model_id, row.owner, row.state, row.progress, row.error,
               json.loads(row.result) if row.result else None)


JOB_COLUMNS = (jobs.c.id, jobs.c.model_id, jobs.c.owner, jobs.c.state, jobs.c.progress, jobs.c.error, jobs.c.result)


def job_of(engine, model_id: int) -> Job | None:
    """Model `model_id`'s measurement: its state, progress and (once done) figures; None when it has none."""
    with engine.connect() as connection:
        row = connection.execute(select(*JOB_COLUMNS).where(jobs.c.model_id == model_id)).first()
    return _job(row) if row else None


def unmeasured(engine, owner: str | None) -> list[str]:
    """The names of `owner`'s models whose measurement is queued or running, oldest first."""
    if not owner:
        return []
    query = (select(models.c.name).join(jobs, jobs.c.model_id == models.c.id)
             .where(models.c.owner == owner, jobs.c.state.in_(["queued", "running"])).order_by(models.c.id))
    with engine.connect() as connection:
        return list(connection.execute(query).scalars())


def ahead_of(engine, model_id: int) -> int:
    """How many jobs are queued before model `model_id`'s (a rough place in the line, for its owner)."""
    with engine.connect() as connection:
        mine = connection.execute(select(jobs.c.id).where(jobs.c.model_id == model_id)).scalar_one_or_none()
        if mine is None:
            return 0
        return connection.execute(select(func.count()).select_from(jobs).where(
            jobs.c.state == "queued", jobs.c.id < mine)).scalar_one()


def claim(engine, holder: str, now: float | None = None) -> Job | None:
    """Take the next job for `holder`: a queued one, or one whose process stopped beating, of the owner served
    least recently (then the oldest); None when there is none. A job given up by MAX_ATTEMPTS dead workers fails."""
    now = time.time() if now is None else now
    served = select(jobs.c.owner, func.max(jobs.c.started).label("served")).group_by(jobs.c.owner).subquery()
    takeable = or_(jobs.c.state == "queued", and_(jobs.c.state == "running", jobs.c.heartbeat < now - STALE))
    query = (select(jobs.c.id, jobs.c.attempts).outerjoin(served, served.c.owner == jobs.c.owner).where(takeable)
             .order_by(func.coalesce(served.c.served, 0.0), jobs.c.id).limit(1))
    while True:
        with engine.begin() as connection:
            row = connection.execute(query).first()
            if row is None:
                return None
            if row.attempts >= MAX_ATTEMPTS:
                connection.execute(update(jobs).where(jobs.c.id == row.id, takeable).values(
                    state="failed", finished=now, error="the server measuring it stopped, again and again"))
                _refuse_waiting(connection, [row.id], "it could not be measured (the server stopped while measuring it)")
                continue
            taken = connection.execute(update(jobs).where(jobs.c.id == row.id, takeable).values(
                state="running", holder=holder, heartbeat=now, started=now, progress=0.0,
                attempts=jobs.c.attempts + 1)).rowcount
            if taken == 1:  # (under PostgreSQL another worker may have taken it between the two statements)
                return _job(connection.execute(select(*JOB_COLUMNS).where(jobs.c.id == row.id)).first())


def beat(engine, holder: str, progress: float | None = None, job_id: int | None = None) -> int:
    """`holder`'s heartbeat (all its running jobs, or job `job_id` with its progress); how many rows it touched."""
    values = {"heartbeat": time.time()}
    where = [jobs.c.holder == holder, jobs.c.state == "running"]
    if job_id is not None:
        where.append(jobs.c.id == job_id)
        if progress is not None:
            values["progress"] = progress
    with engine.begin() as connection:
        return connection.execute(update(jobs).where(*where).values(**values)).rowcount


def finish(engine, job: Job, holder: str, data: bytes, result: dict, pictures: bytes) -> bool:
    """Keep a finished measurement: the job's figures and pictures, and the model's checkpoint with its test figures
    (`data`, the same weights). False when the job is no longer `holder`'s (taken again, or the model deleted)."""
    import hashlib

    with engine.begin() as connection:
        done = connection.execute(update(jobs).where(jobs.c.id == job.id, jobs.c.holder == holder,
                                                     jobs.c.state == "running").values(
            state="done", progress=1.0, finished=time.time(), result=json.dumps(result), pictures=pictures)).rowcount
        if done != 1:
            return False
        connection.execute(update(models).where(models.c.id == job.model_id).values(
            data=data, sha256=hashlib.sha256(data).hexdigest(), size=len(data)))
    return True


def release(engine, holders) -> int:
    """`holders`' running jobs back in the queue, their try not counted (a server stopping, not dying)."""
    if not holders:
        return 0
    with engine.begin() as connection:
        return connection.execute(update(jobs).where(jobs.c.holder.in_(list(holders)), jobs.c.state == "running")
                                  .values(state="queued", holder=None, progress=0.0,
                                          attempts=jobs.c.attempts - 1)).rowcount


def fail(engine, job: Job, holder: str, error: str) -> None:
    """The measurement went wrong (a bug, a bad checkpoint): the job fails with `error`, its waiting submissions are
    refused, and it is not retried."""
    with engine.begin() as connection:
        failed = connection.execute(update(jobs).where(jobs.c.id == job.id, jobs.c.holder == holder).values(
            state="failed", finished=time.time(), error=error[:500])).rowcount
        if failed:
            _refuse_waiting(connection, [job.id], f"it could not be measured ({error[:200]})")


def _refuse_waiting(connection, job_ids, why: str) -> None:
    model_ids = select(jobs.c.model_id).where(jobs.c.id.in_(job_ids))
    connection.execute(update(waiting_submissions).where(
        waiting_submissions.c.model_id.in_(model_ids), waiting_submissions.c.state == "waiting").values(
        state="refused", message=f"Not submitted: {why}."))


def _class_of(connection, class_id: int) -> classes.Class | None:
    row = connection.execute(select(*classes.CLASS_COLUMNS).where(classes_table.c.id == class_id)).first()
    return classes.Class(*row) if row else None


def check_submittable(engine, klass: classes.Class, identity: str | None, model_id: int) -> None:
    """Refused now, before any waiting, for what the class would refuse: closed, frozen, not a member, not their
    model, on the board already, waiting already."""
    with engine.connect() as connection:
        classes.submittable(connection, klass, identity, model_id)
        if connection.execute(select(submissions.c.id).where(submissions.c.class_id == klass.id,
                                                             submissions.c.model_id == model_id)).first():
            raise Refused("This model is on the board already.")
        if connection.execute(select(waiting_submissions.c.id).where(
                waiting_submissions.c.class_id == klass.id, waiting_submissions.c.model_id == model_id,
                waiting_submissions.c.state != "refused")).first():
            raise Refused("This model is already waiting for its measurement to go on that board.")


def submit(engine, klass: classes.Class, identity: str | None, model_id: int) -> dict | None:
    """`identity`'s "Submit to the class" of model `model_id`: on the board now when measured (its figures returned),
    else kept to go on the board once measured (None; its measurement queued if it had none). Refused at once for
    what the class refuses (check_submittable), and then nothing is kept."""
    check_submittable(engine, klass, identity, model_id)
    with engine.begin() as connection:  # the job's state and the wait together: its finish cannot slip between
        row = connection.execute(select(jobs.c.state, jobs.c.result, jobs.c.pictures, jobs.c.id)
                                 .where(jobs.c.model_id == model_id).with_for_update()).first()
        if row is None or row.state == "failed":
            if row is not None:  # measured again: a failure may have been the server's (a bug since fixed)
                connection.execute(update(jobs).where(jobs.c.id == row.id).values(
                    state="queued", attempts=0, error=None, holder=None))
                _arrived.set()
            else:
                enqueue(connection, model_id, identity)
        if row is None or row.state != "done":
            connection.execute(insert(waiting_submissions).values(
                model_id=model_id, class_id=klass.id, identity=identity, state="waiting", created=time.time()))
            return None
    figures = json.loads(row.result)
    classes.submit(engine, klass, identity, model_id, figures, row.pictures)
    return figures


def settle(engine, now: float | None = None) -> int:
    """Carry out the waiting submissions whose model is measured (each by one worker; one left half done by a worker
    killed STALE seconds ago is taken again); a refusal is kept for its student to read. Returns how many went on a
    board."""
    now = time.time() if now is None else now
    takeable = or_(waiting_submissions.c.state == "waiting",
                   and_(waiting_submissions.c.state == "submitting", waiting_submissions.c.claimed < now - STALE))
    query = (select(waiting_submissions.c.id, waiting_submissions.c.class_id, waiting_submissions.c.identity,
                    waiting_submissions.c.model_id, jobs.c.result, jobs.c.pictures)
             .join(jobs, jobs.c.model_id == waiting_submissions.c.model_id).where(takeable, jobs.c.state == "done"))
    with engine.connect() as connection:
        rows = connection.execute(query).all()
    placed = 0
    for row in rows:
        with engine.begin() as connection:
            if connection.execute(update(waiting_submissions).where(waiting_submissions.c.id == row.id, takeable)
                                  .values(state="submitting", claimed=now)).rowcount != 1:
                continue  # another worker carries it out
            klass = _class_of(connection, row.class_id)
            landed = connection.execute(select(submissions.c.id).where(  # by a worker killed before it said so
                submissions.c.class_id == row.class_id, submissions.c.model_id == row.model_id)).first()
        try:
            if klass is None:
                raise Refused("That class no longer exists.")
            if landed is None:
                classes.submit(engine, klass, row.identity, row.model_id, json.loads(row.result), row.pictures)
        except Refused as exc:
            with engine.begin() as connection:
                connection.execute(update(waiting_submissions).where(waiting_submissions.c.id == row.id).values(
                    state="refused", message=f"Not submitted to {klass.title if klass else 'the class'}: {exc}"))
        else:
            placed += landed is None
            with engine.begin() as connection:
                connection.execute(waiting_submissions.delete().where(waiting_submissions.c.id == row.id))
    return placed


def waiting(engine, model_id: int, identity: str | None) -> list[tuple[int, str, str, str | None]]:
    """`identity`'s submissions of model `model_id` not on a board yet: (id, class title, state, message)."""
    if not identity:
        return []
    query = (select(waiting_submissions.c.id, classes_table.c.title, waiting_submissions.c.state,
                    waiting_submissions.c.message)
             .join(classes_table, classes_table.c.id == waiting_submissions.c.class_id)
             .where(waiting_submissions.c.model_id == model_id, waiting_submissions.c.identity == identity)
             .order_by(waiting_submissions.c.id))
    with engine.connect() as connection:
        return [tuple(row) for row in connection.execute(query)]


def boards_of(engine, model_id: int) -> list[str]:
    """The titles of the classes whose board holds model `model_id`."""
    query = (select(classes_table.c.title).join(submissions, submissions.c.class_id == classes_table.c.id)
             .where(submissions.c.model_id == model_id).order_by(submissions.c.id))
    with engine.connect() as connection:
        return list(connection.execute(query).scalars())


def forget_refusal(engine, wait_id: int, identity: str | None) -> None:
    """A refusal its student has read: forgotten."""
    with engine.begin() as connection:
        connection.execute(waiting_submissions.delete().where(
            waiting_submissions.c.id == wait_id, waiting_submissions.c.identity == identity,
            waiting_submissions.c.state == "refused"))


def work_one(engine, score, holder: str | None = None) -> bool:
    """Claim one job and measure it here with `score(data, on_progress) -> (scored bytes, figures, PNG)`, then
    carry out its waiting submissions. False when the queue had nothing to take."""
    holder = holder or holder_name()
    job = claim(engine, holder)
    if job is None:
        return False
    last = [0.0]

    def on_progress(done: int, total: int) -> None:
        if time.monotonic() - last[0] > 0.5 or done == total:
            last[0] = time.monotonic()
            if not beat(engine, holder, done / total, job.id):
                raise Lost()

    from . import models as saved

    data = saved.data(engine, job.model_id)
    try:
        if data is None:
            raise Lost()
        scored, figures, pictures = score(data, on_progress)
    except Lost:
        return True
    except Exception as exc:  # a bug or a bad checkpoint: said to its owner, not retried
        fail(engine, job, holder, f"{type(exc).__name__}: {exc}")
        return True
    finish(engine, job, holder, scored, figures, pictures)
    settle(engine)
    return True


def drain(engine, score) -> int:
    """Work the whole queue in this thread (tests; a script): how many jobs it took."""
    taken = 0
    while work_one(engine, score):
        taken += 1
    return taken


def workers_for(cores: int | None = None) -> int:
    """Scoring threads per server process: one per four cores, at least one, at most four (the rest of the cores
    train the class's live runs and draw its pages)."""
    cores = cores or os.cpu_count() or 1
    return max(1, min(4, cores // 4))


class Pool:
    """`workers` threads taking jobs from `engine`'s queue, and one beating their heartbeat, until stop() or until
    `alive()` turns False (the engine was dropped)."""

    def __init__(self, engine, score, workers: int | None = None, alive=lambda: True, poll: float = POLL):
        self.engine, self.score, self.alive, self.poll = engine, score, alive, poll
        self.stopping = threading.Event()
        self.threads = [threading.Thread(target=self._work, name=f"scoring-{i}", daemon=True)
                        for i in range(workers or workers_for())]
        self.holders: set[str] = set()
        self.threads.append(threading.Thread(target=self._beat, name="scoring-heartbeat", daemon=True))

    def start(self) -> Pool:
        for thread in self.threads:
            thread.start()
        return self

    def running(self) -> bool:
        return not self.stopping.is_set() and self.alive()

    def stop(self, timeout: float = 5.0) -> None:
        """Stop taking jobs; a job being measured is put back in the queue as it was, for this server's next start or
        another server (were that not possible, its heartbeat goes stale and it is taken again all the same)."""
        self.stopping.set()
        _arrived.set()
        for thread in self.threads:
            if thread is not threading.current_thread():
                thread.join(timeout)
        if not self.alive():  # its engine dropped: nothing to hand back
            return
        try:
            release(self.engine, self.holders)
        except Exception:  # the database gone first: the stale heartbeat does it
            pass

    def _work(self) -> None:
        behind_the_pages()
        holder = holder_name()
        self.holders.add(holder)
        while self.running():
            try:
                took = work_one(self.engine, self._score, holder)
                if not took:
                    settle(self.engine)  # left by a process killed between a finish and its settling
            except Exception:  # the database away for a moment: wait, then try again
                took = False
            if not took:
                _arrived.wait(self.poll)
                _arrived.clear()

    def _score(self, data, on_progress):
        def checked(done, total):
            if not self.running():
                raise Lost()
            on_progress(done, total)

        return self.score(data, checked)

    def _beat(self) -> None:
        while not self.stopping.wait(BEAT) and self.alive():
            for holder in list(self.holders):
                try:
                    beat(self.engine, holder)
                except Exception:
                    pass


def behind_the_pages() -> None:
    """This thread at NICENESS (on Linux a thread's nice value is its own, and the torch threads it starts inherit
    it): a measurement takes the cores the page runs leave, as the training processes do, not the pages' share."""
    try:
        os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), NICENESS)
    except (AttributeError, OSError):  # not Linux, or not allowed: it runs at the server's priority
        pass


def clean_tmp(folder: Path, now: float | None = None) -> list[Path]:
    """Remove the files Save leaves in `folder` (the state folder's tmp/) that nobody will read: those of a process
    that has ended on this host (their names carry host and pid, ui/live_runs.write), and any older than TMP_BOUND
    (another host's, or a name of before). Another live server's file in flight is left alone. Returns those removed."""
    now = time.time() if now is None else now
    host = socket.gethostname()
    removed = []
    for path in folder.glob("live-*.safetensors*"):
        try:
            age = now - path.stat().st_mtime
            parts = path.name.split("-")  # live-<host>-<pid>-<token>.safetensors (host may hold '-')
            pid = int(parts[-2]) if len(parts) >= 4 and parts[-2].isdigit() else None
            mine_host = "-".join(parts[1:-2]) == host
            if age > TMP_BOUND or (mine_host and pid is not None and not _alive(pid)):
                path.unlink()
                removed.append(path)
        except (OSError, ValueError):
            continue
    return removed


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's process: alive
        return True
    return True
