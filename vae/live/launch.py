"""On the server: how a training process starts — forked by the server's zygote (POSIX), or spawned.

Why a process at all: torch's element-wise kernels run their OpenMP teams well only from a
process's main thread (about 1.7× slower per step from any other thread), and a web server's
sessions run in threads. Why not multiprocessing's spawn or forkserver: both re-run the parent's
`__main__` in the child, and inside a Streamlit server `__main__` is the app script (about 900 MB
and many seconds of CPU per child). The zygote is `python -m vae.live.zygote`, which imports only
`vae`. Where descriptors cannot be passed (Windows), multiprocessing's spawn is the fallback.
"""
from __future__ import annotations

import multiprocessing
import os
import select
import signal
import socket
import subprocess
import sys
import threading
import time
from multiprocessing.connection import Connection
from multiprocessing.reduction import send_handle
from pathlib import Path

from .protocol import DATA_ENV, LiveTrainingError

PROJECT_ROOT = Path(__file__).resolve().parents[2]


class ForkedProcess:
    """A fork of the zygote (not our child: the zygote's), behind the few Popen methods the owner uses.
    Watched through a pidfd where Linux has one, so a recycled pid is never mistaken for it."""

    def __init__(self, pid: int):
        self.pid = pid
        try:
            self._fd = os.pidfd_open(pid)
        except (AttributeError, OSError):
            self._fd = None

    def poll(self):
        if self._fd is not None:
            return None if not select.select([self._fd], [], [], 0)[0] else 0
        try:
            os.kill(self.pid, 0)
            return None
        except ProcessLookupError:
            return 0

    def wait(self, timeout=None):
        deadline = None if timeout is None else time.monotonic() + timeout
        while self.poll() is None:
            if deadline is not None and time.monotonic() > deadline:
                raise subprocess.TimeoutExpired(f"training process {self.pid}", timeout)
            time.sleep(0.02)
        return 0

    def kill(self):
        try:
            if self._fd is not None:
                signal.pidfd_send_signal(self._fd, signal.SIGKILL)
            else:
                os.kill(self.pid, signal.SIGKILL)
        except (ProcessLookupError, OSError):
            pass

    def close(self):
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None


class Zygote:
    """The server's zygote process and the control pipe to it; `fork()` is safe from any thread."""

    def __init__(self):
        ours, theirs = socket.socketpair()
        env = dict(os.environ, PYTHONPATH=os.pathsep.join(filter(None, [str(PROJECT_ROOT),
                                                                         os.environ.get("PYTHONPATH")])))
        with theirs:
            self.process = subprocess.Popen([sys.executable, "-m", "vae.live.zygote", str(theirs.fileno())],
                                            pass_fds=[theirs.fileno()], stdin=subprocess.DEVNULL, env=env)
        self.control = Connection(ours.detach())
        self.lock = threading.Lock()

    def fork(self, arguments: dict) -> tuple[Connection, ForkedProcess]:
        ours, theirs = socket.socketpair()
        with self.lock, theirs:
            self.control.send(arguments)
            send_handle(self.control, theirs.fileno(), self.process.pid)
            if not self.control.poll(120):
                raise LiveTrainingError("the training processes' zygote did not answer within 120 s")
            pid = self.control.recv()
        return Connection(ours.detach()), ForkedProcess(pid)

    def close(self) -> None:
        self.control.close()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()


_zygote: Zygote | None = None
_zygote_lock = threading.Lock()


def zygote() -> Zygote:
    """This server's zygote, started on first use (and again if it has died)."""
    global _zygote
    with _zygote_lock:
        if _zygote is None or _zygote.process.poll() is not None:
            _zygote = Zygote()
        return _zygote


def run_arguments(config, limit, heartbeat_timeout, device) -> dict:
    return {"config": config.to_dict(), "limit": limit, "heartbeat_timeout": heartbeat_timeout, "device": device,
            "env": {name: os.environ.get(name) for name in DATA_ENV}}


def launch_forked(arguments: dict):
    try:
        return zygote().fork(arguments)
    except (EOFError, OSError) as exc:
        raise LiveTrainingError(f"the training process could not start: {exc}") from None


class SpawnedProcess:
    """multiprocessing's Process behind the few Popen methods the owner uses (the Windows fallback)."""

    def __init__(self, process):
        self._process, self.pid = process, process.pid

    def poll(self):
        return None if self._process.is_alive() else self._process.exitcode

    def wait(self, timeout=None):
        self._process.join(timeout)
        return self._process.exitcode

    def kill(self):
        self._process.kill()

    def close(self):
        pass


_main_lock = threading.Lock()


def launch_spawned(arguments: dict):
    """multiprocessing's spawn, told of no `__main__` to re-run: inside Streamlit it is the app script (or,
    under AppTest, whatever script ran last), and the child would run it before training."""
    import types

    context = multiprocessing.get_context("spawn")
    ours, theirs = context.Pipe()
    process = context.Process(target=_spawned_main, args=(theirs, arguments), daemon=True, name="vae-live-training")
    with _main_lock:
        main = sys.modules["__main__"]
        sys.modules["__main__"] = types.ModuleType("__main__")  # no __file__, no __spec__: nothing to re-run
        try:
            process.start()
        finally:
            sys.modules["__main__"] = main
    theirs.close()
    return ours, SpawnedProcess(process)


def _spawned_main(conn, arguments: dict) -> None:
    from ..data import load_dataset
    from .child import ChildSession
    from .child_loop import serve

    if hasattr(os, "nice"):
        from .cores import NICENESS

        os.nice(NICENESS)

    def make_session():
        dataset = arguments["config"]["dataset"]
        train = load_dataset(dataset, "train").subset(arguments["limit"])
        return ChildSession(arguments["config"], train, load_dataset(dataset, "test"), arguments["device"],
                            arguments["limit"])
    serve(conn, make_session, arguments["heartbeat_timeout"])


LAUNCHERS = {"zygote": launch_forked, "spawn": launch_spawned}
DEFAULT_LAUNCHER = "spawn" if os.name == "nt" else "zygote"
