"""A class at full scale on one server, at the protocol level: no browsers (the server has the cores), each student a
websocket session speaking Streamlit's own protocol (tests/support/st_client) with a browser key of its own.

Every student joins the class (the join link, a display name, Join), creates a model on Train live, plays it for
--train-seconds while the page's timed fragments run as a browser's would, saves it and submits it to the class, then
pauses; every other student closes the tab right after Submit (their entries must land all the same). The teacher's
board is open meanwhile. Printed: each student's steps/s; Save's and Submit's answer (from the click to the end of its
run) and the measurement's wait (Save to figures) and the entry's (Submit to the board), p50/p95; the board's refresh
(its fragment's run) and the lag from an entry in the database to the teacher's board; every page run's p95; the
server's memory (PSS, with its training processes) at its peak; and whether anything was lost or duplicated.

    flock /tmp/browser.lock env VAE_DATA_DIR=../shared/datasets python benchmarks/class_scale.py [--students 30]
        [--train-seconds 60] [--iw-samples 100]
"""
from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def pss_mb(pid: int) -> float:
    """Proportional set size of a process and all its descendants, MB (Linux /proc/*/smaps_rollup)."""
    total, pids = 0, [pid]
    while pids:
        current = pids.pop()
        try:
            for line in Path(f"/proc/{current}/smaps_rollup").read_text().splitlines():
                if line.startswith("Pss:"):
                    total += int(line.split()[1])
            for task in Path(f"/proc/{current}/task").iterdir():
                pids += [int(c) for c in (task / "children").read_text().split()]
        except OSError:
            continue
    return total / 1024


def quantiles(values) -> str:
    values = sorted(values)
    if not values:
        return "–"
    p95 = values[min(len(values) - 1, round(0.95 * (len(values) - 1)))]
    return f"p50 {statistics.median(values):.2f} s, p95 {p95:.2f} s, max {values[-1]:.2f} s (n = {len(values)})"


class Student:
    def __init__(self, number: int, url: str, code: str, train_seconds: float):
        from classroom import identity
        from tests.support.st_client import Session
        from ui.browser_key import COOKIE

        self.number, self.code, self.train_seconds = number, code, train_seconds
        self.key = identity.new_key()
        self.identity = identity.of_browser(self.key)
        self.session = Session(url, COOKIE, self.key)
        self.name = f"Student {number:02d}"
        self.figures: dict = {"student": self.name}
        self.error: str | None = None

    async def run(self) -> None:
        try:
            await self._run()
        except Exception as exc:  # said in the report, with the others' figures
            self.error = f"{type(exc).__name__}: {exc}"

    async def _run(self) -> None:
        s, figures = self.session, self.figures
        await s.open("class", f"join={self.code}")
        joined = await s.click("Join the class", also=[s.text("class_join_as", self.name)])
        assert joined.has("markdown", "You are in this class"), f"the join was not confirmed: {joined.texts('alert')}"
        await s.request(page="train")
        created = await s.click("train_create")
        assert "live_mode" in s.widgets, f"no live controls after Create model: {created.texts('alert')}"
        await s.request([s.choose("live_mode", "Play")])
        started = time.monotonic()
        await asyncio.sleep(self.train_seconds)
        numbers = [r.metrics() for r in s.runs if "Step" in r.metrics()]
        step = int(numbers[-1]["Step"].replace(",", "")) if numbers else 0
        figures["steps"] = step
        figures["steps_per_s"] = step / (time.monotonic() - started)
        figures["shown_steps_per_s"] = numbers[-1].get("Steps/s") if numbers else None
        figures["saved_at"] = time.time()
        saved = await s.click("Save")
        figures["save_s"] = saved.seconds
        assert saved.has("alert", "Saved as"), f"Save did not answer 'Saved as': {saved.texts('alert')}"
        figures["submitted_at"] = time.time()
        submitted = await s.click("live_submit_submit")
        figures["submit_s"] = submitted.seconds
        assert submitted.has("alert", "once measured") or submitted.has("alert", "On the board"), \
            f"Submit did not answer: {submitted.texts('alert')}"
        if self.number % 2:  # every other student closes the tab at once: nothing may be lost
            await s.close()
            return
        await s.request([s.choose("live_mode", "Pause")])

    async def leave(self) -> None:
        if not self.session.closed:
            await self.session.close()


async def watch_board(teacher, seen: list, stop: asyncio.Event) -> None:
    """Follow the teacher's board: (time, entries shown) at each of its fragment's runs."""
    import re

    while not stop.is_set():
        await asyncio.sleep(0.2)
        for run in teacher.runs[len(seen):]:
            counts = [int(m.group(1)) for text in run.texts("markdown")
                      for m in [re.search(r"(\d+) entr(?:y|ies)", text)] if m]
            seen.append((time.time(), counts[0] if counts else None, run.seconds, run.fragment))


async def sample_memory(pid: int, peak: list, stop: asyncio.Event) -> None:
    while not stop.is_set():
        peak.append(pss_mb(pid))
        await asyncio.sleep(2)


async def the_class(url: str, database: str, server_pid: int, students: int, train_seconds: float) -> dict:
    from sqlalchemy import func, select

    from classroom import classes, db, identity
    from tests.support.st_client import Session
    from ui.browser_key import COOKIE

    engine = db.engine(database)
    teacher_key = identity.new_key()
    klass, _ = classes.create(engine, identity.of_browser(teacher_key), "Class at scale")
    teacher = Session(url, COOKIE, teacher_key)
    await teacher.open("class", f"class={klass.code}")
    stop, board_seen, memory = asyncio.Event(), [], []
    watchers = [asyncio.create_task(watch_board(teacher, board_seen, stop)),
                asyncio.create_task(sample_memory(server_pid, memory, stop))]
    class_ = [Student(i + 1, url, klass.code, train_seconds) for i in range(students)]
    began = time.time()
    await asyncio.gather(*(student.run() for student in class_))
    everyone_done = time.time()
    deadline = time.monotonic() + 60 * 30
    while time.monotonic() < deadline:  # every entry measured and on the board (or the class given up on)
        with engine.connect() as connection:
            pending = connection.execute(select(func.count()).select_from(db.scoring_jobs).where(
                db.scoring_jobs.c.state.in_(["queued", "running"]))).scalar_one()
            waiting = connection.execute(select(func.count()).select_from(db.waiting_submissions)).scalar_one()
        if not pending and not waiting:
            break
        await asyncio.sleep(1)
    await asyncio.sleep(8)  # the board's next refreshes
    stop.set()
    for task in watchers:
        await task
    for student in class_:
        await student.leave()
    await teacher.close()
    return {"class": klass, "students": class_, "board": board_seen, "memory": memory, "engine": engine,
            "began": began, "done": everyone_done, "teacher": teacher}


def report(result: dict, cores: int, args) -> None:
    import json

    from sqlalchemy import select

    from classroom import db

    engine, class_ = result["engine"], result["students"]
    failed = [s for s in class_ if s.error]
    with engine.connect() as connection:
        models = connection.execute(select(db.models.c.id, db.models.c.owner, db.models.c.created)).all()
        jobs = {row.model_id: row for row in connection.execute(select(
            db.scoring_jobs.c.model_id, db.scoring_jobs.c.state, db.scoring_jobs.c.started,
            db.scoring_jobs.c.finished, db.scoring_jobs.c.attempts))}
        entries = connection.execute(select(db.submissions.c.model_id, db.submissions.c.created)).all()
        waiting = connection.execute(select(db.waiting_submissions.c.id)).all()
    owners = [m.owner for m in models]
    by_owner = {s.identity: s for s in class_}
    lost = [s.name for s in class_ if not s.error and owners.count(s.identity) != 1]
    doubled = [s.name for s in class_ if owners.count(s.identity) > 1]
    unmeasured = [m.id for m in models if jobs.get(m.id) is None or jobs[m.id].state != "done"]
    entry_models = [e.model_id for e in entries]
    print(f"\n{len(class_)} students, {args.train_seconds:g} s of training each, IWAE K = {args.iw_samples}, "
          f"on {cores} cores (one server process, SQLite); {len(failed)} failed")
    for student in failed:
        print(f"  {student.name}: {student.error}")
    print("\nstudent     steps  steps/s (shown)   Save    Submit   measured after Save   on the board after Submit")
    measure_waits, land_waits = [], []
    created_of = {e.model_id: e.created for e in entries}
    for student in class_:
        f = student.figures
        model = next((m for m in models if m.owner == student.identity), None)
        job = jobs.get(model.id) if model else None
        measured = job.finished - f["saved_at"] if job and job.finished and "saved_at" in f else None
        landed = created_of.get(model.id) - f["submitted_at"] if model and model.id in created_of and \
            "submitted_at" in f else None
        if measured is not None:
            measure_waits.append(measured)
        if landed is not None:
            land_waits.append(max(landed, 0.0))
        print(f"{student.name}  {f.get('steps', 0):6,}  {f.get('steps_per_s', 0):6.1f} ({f.get('shown_steps_per_s')})"
              f"  {f.get('save_s', float('nan')):6.2f} s  {f.get('submit_s', float('nan')):6.2f} s"
              f"  {measured if measured is not None else float('nan'):8.1f} s"
              f"  {landed if landed is not None else float('nan'):8.1f} s"
              + ("  (closed the tab after Submit)" if student.number % 2 else ""))
    rates = [s.figures["steps_per_s"] for s in class_ if "steps_per_s" in s.figures]
    print(f"\nsteps/s per student: median {statistics.median(rates):.1f}, min {min(rates):.1f}, "
          f"max {max(rates):.1f}; the class {sum(rates):.0f} steps/s in all" if rates else "no training measured")
    print("Save's answer:                 " + quantiles([s.figures["save_s"] for s in class_ if "save_s" in s.figures]))
    print("Submit's answer:               " + quantiles([s.figures["submit_s"] for s in class_
                                                         if "submit_s" in s.figures]))
    print("figures measured, after Save:  " + quantiles(measure_waits))
    print("on the board, after Submit:    " + quantiles(land_waits))
    board = result["board"]
    refreshes = [seconds for _, _, seconds, fragment in board if fragment]
    print("the board's refresh (its fragment's run, the teacher's): " + quantiles(refreshes))
    lags = []
    for entry_time in sorted(created_of.values()):
        count = sorted(created_of.values()).index(entry_time) + 1
        shown = next((t for t, n, _, _ in board if n is not None and n >= count and t >= entry_time), None)
        if shown is not None:
            lags.append(shown - entry_time)
    print("from an entry in the database to the teacher's board: " + quantiles(lags))
    runs = [run.seconds for s in class_ for run in s.session.runs]
    full = [run.seconds for s in class_ for run in s.session.runs if not run.fragment]
    print("every page run (students' clicks, page loads and timed fragments): " + quantiles(runs))
    print("students' full page runs (clicks, page loads):                      " + quantiles(full))
    print(f"server's memory (PSS, with its training processes): peak {max(result['memory'], default=0):.0f} MB, "
          f"{max(result['memory'], default=0) / max(1, len(class_)):.0f} MB a student")
    attempts = sorted({j.attempts for j in jobs.values()})
    print(f"\nmodels kept: {len(models)} for {len(class_)} students; lost: {lost or 'none'}; duplicated: "
          f"{doubled or 'none'}; not measured: {unmeasured or 'none'} (attempts per job {attempts}); board entries: "
          f"{len(entries)}, distinct {len(set(entry_models))}; submissions still waiting: {len(waiting)}")
    order = sorted((j.started, by_owner.get(next(m.owner for m in models if m.id == mid))) for mid, j in jobs.items()
                   if j.started)
    print("measured in this order of students: " + " ".join(s.name.split()[-1] if s else "?" for _, s in order))
    print(json.dumps({"students": len(class_), "cores": cores, "failed": len(failed), "lost": len(lost),
                      "duplicated": len(doubled), "entries": len(entries)}))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--students", type=int, default=30)
    parser.add_argument("--train-seconds", type=float, default=60.0)
    parser.add_argument("--iw-samples", type=int, default=100, help="K of the server's scoring (its setting)")
    args = parser.parse_args()
    from tests.support.server import streamlit_server

    cores = len(os.sched_getaffinity(0))
    with tempfile.TemporaryDirectory(prefix="class-scale-") as state:
        env = {"VAE_STATE_DIR": state, "VAE_SCORE_IW_SAMPLES": str(args.iw_samples)}
        os.environ["VAE_STATE_DIR"] = state
        with streamlit_server(env) as (url, proc, _):
            result = asyncio.run(the_class(url, f"sqlite:///{state}/lab.sqlite3", proc.pid, args.students,
                                           args.train_seconds))
        report(result, cores, args)


if __name__ == "__main__":
    main()
