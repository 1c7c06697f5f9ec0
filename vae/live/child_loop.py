"""In the training process: its main loop — answer requests, train in short chunks between them, end.

It ends on `stop`, when the pipe closes (the owner's process ended), or when no request has come for
`heartbeat_timeout` seconds (the owner went away without saying so). Nothing outlives its owner.
"""
from __future__ import annotations

import time
from multiprocessing.connection import Connection

from .protocol import answer


def serve(conn: Connection, make_session, heartbeat_timeout: float) -> None:
    """`make_session()` builds the ChildSession; if it fails, the first request is answered with why."""
    try:
        session = make_session()
    except Exception as exc:
        _refuse_first(conn, f"the model could not be built: {exc}")
        return
    last_heard = time.monotonic()
    while True:
        try:
            request = conn.recv() if conn.poll(0 if session.playing else 0.5) else None
        except (EOFError, OSError):
            return  # the owner is gone
        if request is not None:
            last_heard = time.monotonic()
            try:
                command = answer(conn, request, lambda name, **arguments: getattr(session, name)(**arguments))
            except (OSError, BrokenPipeError):
                return
            if command == "stop":
                return
        elif time.monotonic() - last_heard > heartbeat_timeout:
            return  # nobody has asked for anything in a long while: the session has gone
        if session.playing:
            session.train_chunk()


def _refuse_first(conn: Connection, error: str) -> None:
    try:
        if conn.poll(300):
            ident, _, _ = conn.recv()
            conn.send((ident, False, error))
    except (EOFError, OSError, ValueError):
        pass
