"""The pipe between an owner (a browser session's thread) and its training process: requests and replies.

A request is (id, command, arguments); its reply is (id, ok, value). The owner's side keeps one
request in flight per connection (a session's reruns, fragments and callbacks call from different
threads) and reads replies until the one carrying its id: a reply that arrives after its caller
gave up waiting is discarded, never read as the answer to the next request. A command that timed
out was still delivered and runs; nothing is sent twice and nothing is lost.
"""
from __future__ import annotations

import itertools
import threading
import time
from multiprocessing.connection import Connection

COMMANDS = ("hello", "play", "pause", "step", "step_once", "update", "snapshot", "mark", "decoder_now",
            "timeline_since", "save", "stop")
RECORD_SECONDS = 0.5  # one history point per half second of training; LiveTrainer.step's default length
DATA_ENV = ("VAE_DATA_DIR", "VAE_OFFLINE")  # where a run's data comes from: sent with each new run


class LiveTrainingError(RuntimeError):
    """The training process refused a command or is gone; the message says why."""


class Caller:
    """The owner's end: `call()` sends one request and returns its reply, from any thread."""

    def __init__(self, conn: Connection):
        self.conn = conn
        self._lock = threading.Lock()
        self._ids = itertools.count(1)
        self.discarded = 0  # late replies thrown away (tests read it)

    def call(self, command: str, timeout: float, **arguments):
        try:
            with self._lock:
                request = next(self._ids)
                self.conn.send((request, command, arguments))
                deadline = time.monotonic() + timeout
                while True:
                    if not self.conn.poll(max(0.0, deadline - time.monotonic())):
                        raise LiveTrainingError(f"the training process did not answer {command!r} within "
                                                f"{timeout:.0f} s")
                    answered, ok, value = self.conn.recv()
                    if answered == request:
                        break
                    self.discarded += 1  # the reply to an earlier request whose caller stopped waiting
        except (EOFError, BrokenPipeError, ConnectionResetError, OSError):
            raise LiveTrainingError("the training process has ended") from None
        if not ok:
            raise LiveTrainingError(value)
        return value

    def close(self) -> None:
        with self._lock:
            self.conn.close()


def answer(conn: Connection, request: tuple, handler) -> str:
    """The child's end: run one request through `handler(command, **arguments)` and send its reply.
    A refused command (an exception) is an answer, not a crash. Returns the command's name."""
    ident, command, arguments = request
    try:
        if command not in COMMANDS:
            raise ValueError(f"unknown command {command!r}")
        reply = (ident, True, handler(command, **arguments))
    except Exception as exc:
        reply = (ident, False, str(exc))
    conn.send(reply)
    return command
