"""Live training for one browser session: a `vae.live.LiveTrainer` (a child process) in st.session_state.

The page's fragment asks the child for a snapshot about once a second while it plays, and every
few seconds while it is paused; those requests are the session's heartbeat. When the tab closes
they stop, and the child ends itself after HEARTBEAT_TIMEOUT seconds. Two tabs are two processes.
"""
from __future__ import annotations

from dataclasses import dataclass

from ui import store

HEARTBEAT_TIMEOUT = 60.0
REFRESH_PLAYING = 2.0  # seconds between renders while training (each render costs the CPU the child trains on)
REFRESH_PAUSED = 10.0  # renders while paused keep the child alive
KEEP_ALIVE = 10.0  # every page of the session pings a live run this often (see keep_alive)


@dataclass
class LiveRun:
    trainer: object  # vae.live.LiveTrainer
    stopped: bool = False
    saved_as: str | None = None


def keep_alive() -> None:
    """Called by app.py on every page: while the session has a live run, ping it every KEEP_ALIVE seconds,
    so that reading another page does not end the training; closing the tab still does."""
    import streamlit as st

    run = st.session_state.get("live_run")
    if run is None or not run.trainer.alive:
        return

    def ping():
        try:
            run.trainer.snapshot(probe=False)
        except Exception:  # the run has ended: nothing to keep alive
            pass

    st.fragment(run_every=KEEP_ALIVE)(ping)()


def new_run(config, limit: int | None = None) -> LiveRun:
    from vae.live import LiveTrainer

    return LiveRun(LiveTrainer(config, limit, heartbeat_timeout=HEARTBEAT_TIMEOUT))


def save(run: LiveRun, name: str):
    """Save the run's model in the user's folder (the child writes it, with the test-set latents)."""
    path = store.user_model_path(name)
    run.trainer.save(path, meta={"trained_in": "app"})
    run.saved_as = path.stem
    return path
