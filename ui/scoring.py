"""The server's scoring pool (classroom.scoring), and a saved model's measurement where its student is: queued, its
progress, then its figures."""
from __future__ import annotations

import atexit
import threading

import streamlit as st

from ui import evaluation, store, text

_pools: dict = {}  # engine → classroom.scoring.Pool: one per database and process
_lock = threading.Lock()
POLL = 1.0  # seconds between two looks at a model being measured


def start() -> None:
    """This process's scoring pool for the app's database, started once (app.py, on every run: a dictionary look-up
    after the first). At the first start the state folder's tmp/ is swept of files that killed processes left. The
    pool stops when the process exits, or when its engine is dropped (classroom.db.forget)."""
    from classroom import db, scoring

    engine = store.database()
    with _lock:
        pool = _pools.get(engine)
        if pool is not None and pool.running():
            return
        for gone in [e for e, p in _pools.items() if not p.running()]:
            del _pools[gone]
        scoring.clean_tmp(db.state_dir() / "tmp")
        pool = scoring.Pool(engine, lambda data, on_progress: evaluation.score(data, on_progress),
                            alive=lambda: any(e is engine for e in list(db._engines.values()))).start()
        _pools[engine] = pool


@atexit.register
def stop_all(timeout: float = 5.0) -> None:
    """The process exits (the server stops): every pool stops, its jobs in flight put back in the queue (each
    thread waited for up to `timeout` seconds)."""
    with _lock:
        pools = list(_pools.values())
    for pool in pools:
        pool.stop(timeout)


def measurement(engine, model, config=None) -> None:
    """Model `model`'s measurement: a progress bar while it waits or is measured (redrawn every POLL seconds, then
    the whole page once it is done: the sidebar's card), its figures once measured, or why it could not be."""
    from classroom import scoring

    job = scoring.job_of(engine, model.id)
    if job is None:  # an upload: measured when it is submitted
        return
    if job.state == "done":
        st.caption(f"Measured on the test split: {evaluation.card(job.result, config)}." if config is not None else
                   f"Measured on the test split: ELBO {job.result['elbo']:.1f}, IWAE log p(x) "
                   f"{job.result['log_px_iwae']:.1f} nats.")
    elif job.state == "failed":
        st.error(f"{text.plain(model.name)} could not be measured: {text.plain(job.error or 'unknown error')}")
    else:
        st.fragment(run_every=POLL)(_progress)(engine, model)


def _progress(engine, model) -> None:
    from classroom import scoring

    job = scoring.job_of(engine, model.id)
    if job is None or job.state in ("done", "failed"):
        st.rerun(scope="app")
    if job.state == "queued":
        ahead = scoring.ahead_of(engine, model.id)
        st.progress(0.0, text=f"{text.plain(model.name)} is kept; it waits to be measured on the test split "
                              f"({ahead} model{'s' if ahead != 1 else ''} ahead of it). You may close the tab: "
                              "its figures will be here.")
    else:
        st.progress(job.progress, text=f"Measuring {text.plain(model.name)} on the test split: {job.progress:.0%}. "
                                       "You may close the tab: its figures will be here.")
