"""Live training for one browser session: a `vae.live.LiveTrainer` (a training process) in st.session_state.

The page's two fragments ask the process for snapshots while it plays (its numbers every REFRESH_PLAYING
seconds, its latents every REFRESH_LATENTS) and every REFRESH_PAUSED seconds while it is paused; those
requests are the session's heartbeat. When the tab closes they stop, and the process ends itself after
HEARTBEAT_TIMEOUT seconds. Two tabs are two processes.

A reload starts a new Streamlit session. So that it does not lose the run, each run is registered
under an unguessable token (`secrets.token_urlsafe`) that only the tab that created it holds (its
sessionStorage, ui/run_token); the reloaded tab reports it and reattaches. The registry is the one
structure sessions share: behind a lock, looked up by token only, never listed, emptied of runs
whose process has ended.
"""
from __future__ import annotations

import secrets
import threading
from dataclasses import dataclass, field


HEARTBEAT_TIMEOUT = 60.0
REFRESH_PLAYING = 2.0  # seconds between renders while training (each render costs the CPU the child trains on)
REFRESH_LATENTS = 2.0  # the latent cloud, the decoder's map and reconstructions while training
REFRESH_PAD = 6.0  # the latent pad's decoder while training (about 1 MB of weights each time, when it is on)
REFRESH_PAUSED = 10.0  # renders while paused keep the child alive
KEEP_ALIVE = 10.0  # every page of the session pings a live run this often (see keep_alive)
RUN = "live_run"  # the session's LiveRun in st.session_state
TOKEN_SENT = "live_token_sent"  # the token the tab has been asked to store (once)


@dataclass
class LiveRun:
    trainer: object  # vae.live.LiveTrainer
    stopped: bool = False
    saved_as: str | None = None
    token: str = field(default_factory=lambda: secrets.token_urlsafe(24))


_runs: dict[str, LiveRun] = {}
_lock = threading.Lock()


def _register(run: LiveRun) -> None:
    with _lock:
        for token in [t for t, r in _runs.items() if not r.trainer.alive]:
            del _runs[token]
        _runs[run.token] = run


def attach(token: str) -> LiveRun | None:
    """The live run registered under `token`, if its process still runs."""
    if not isinstance(token, str) or len(token) > 64:
        return None
    with _lock:
        run = _runs.get(token)
        if run is not None and not run.trainer.alive:
            del _runs[token]
            run = None
    return run


def new_run(config, limit: int | None = None) -> LiveRun:
    from vae.live import LiveTrainer

    run = LiveRun(LiveTrainer(config, limit, heartbeat_timeout=HEARTBEAT_TIMEOUT))
    _register(run)
    return run


def end(run: LiveRun) -> None:
    """Stop the run's process and forget its token."""
    with _lock:
        _runs.pop(run.token, None)
    run.trainer.stop()


def write(run: LiveRun):
    """The run's model as a checkpoint file (the training process writes it; the test set's latents follow with its
    measurement, classroom.scoring) in the state folder's tmp/, for the page to keep; the caller removes it. Its name
    carries this host and process, so that a server starting later removes it if this process was killed meanwhile
    (classroom.scoring.clean_tmp)."""
    import os
    import secrets
    import socket

    from classroom import db

    path = db.state_dir() / "tmp" / f"live-{socket.gethostname()}-{os.getpid()}-{secrets.token_hex(8)}.safetensors"
    path.parent.mkdir(parents=True, exist_ok=True)
    run.trainer.save(path, meta={"trained_in": "app"}, latents=False)  # its scoring job adds the test latents
    return path


def adopt(run: LiveRun) -> None:
    """Make `run` this session's: its live controls start at the run's settings and its playing state."""
    import streamlit as st

    snap = run.trainer.snapshot(probe=False)
    config = snap["config"]
    st.session_state.update({RUN: run, "live_lr": config["lr"], "live_beta": config["beta"],
                             "live_sigma": config["sigma_dec"], "live_playing": bool(snap["playing"]),
                             "live_save_default": default_name(config)})


def default_name(config: dict) -> str:
    """What the run's model is, with a short random suffix (classroom.models.default_name)."""
    from classroom.models import default_name as name_of
    from ui.store import database
    from vae.config import VAEConfig

    return name_of(VAEConfig.from_dict(config), database())


def keep_alive() -> None:
    """Called by app.py on every page, before the page. Reattaches a reloaded tab to its run; while the session
    has a live run, pings it every KEEP_ALIVE seconds, so that reading another page does not end the training
    (closing the tab still does)."""
    import streamlit as st

    from ui.run_token import run_token

    state = st.session_state
    run = state.get(RUN)
    known = run.token if run is not None else None
    store_token = known if known is not None and state.get(TOKEN_SENT) != known else None
    with st.sidebar:
        box = st.container()  # the token keeper, and the keep-alive while a run lives: one place on every run
    with box:
        held = run_token(known, store=store_token)
    if store_token:
        state[TOKEN_SENT] = store_token
    if held is not None:  # a reload (or the tab reopened): this tab's run, if it still trains
        found = attach(held)
        if found is not None:
            try:
                adopt(found)
                state[TOKEN_SENT] = found.token
                run = found
            except Exception:  # it ended just now
                pass
    if run is None or not run.trainer.alive:
        return

    def ping():
        try:
            run.trainer.snapshot(probe=False)
        except Exception:  # the run has ended: nothing to keep alive
            pass

    with box:  # not above the page: there, a reattach moved every element of it (an expander just opened closed)
        st.fragment(run_every=KEEP_ALIVE)(ping)()
