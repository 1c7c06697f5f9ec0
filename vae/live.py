"""Live training in a child process that one owner (a browser session) controls over a pipe.

Why a process: torch's element-wise kernels run their OpenMP teams well only from a process's main
thread (measured here: about 1.7× slower per step from any other thread), and a web server's
sessions run in threads. The child trains on its own main thread, at the command line's speed.

Why `python -m vae.live` and not multiprocessing's spawn: spawn re-runs the parent's `__main__` in
the child, and inside a Streamlit server `__main__` is the app script itself (Streamlit installs it
there for each run). Each child then ran app.py's default page in bare mode before training: about
900 MB and many seconds of CPU per child, which with a class of sessions starting at once starved
them all. The child here imports only `vae`; it talks over a socket pair handed down as a file
descriptor (POSIX). Where descriptors cannot be passed (Windows) multiprocessing's spawn is the
fallback.

The child holds a `Trainer` and trains in short chunks between commands: play, pause, step,
update (lr / β / σ_dec), snapshot (metrics, history and a probe of the latent space), save, stop.
It exits on `stop`, when the pipe closes (the owner's process ended), or when no command has come
for `heartbeat_timeout` seconds (the owner went away without saying so). Nothing outlives its owner.
"""
from __future__ import annotations

import multiprocessing
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from multiprocessing.connection import Connection
from pathlib import Path

CHUNK_SECONDS = 0.1  # training between two looks at the pipe
RECORD_SECONDS = 0.5  # one history point per half second of training
PROBE = 1000  # test digits encoded for the live scatter
RECON = 8  # of which this many are shown with their reconstructions
COMMANDS = ("hello", "play", "pause", "step", "update", "snapshot", "save", "stop")
THREADS_EVERY = 2.0  # seconds between two looks at how many training processes share the machine
NICENESS = 10  # the training processes yield the cores to the server (and local browsers) whenever it needs them
CHILD_MARK = b"\0-m\0vae.live\0"  # in /proc/PID/cmdline of every training process
PROJECT_ROOT = Path(__file__).resolve().parent.parent


def training_processes(parent: int) -> list[int]:
    """The pids of the live-training processes that `parent` (a server) runs, from /proc (Linux; [] elsewhere).

    They are its children whose command line is `python -m vae.live …` (CHILD_MARK).
    """
    found = []
    try:
        for entry in Path("/proc").iterdir():
            if not entry.name.isdigit():
                continue
            try:
                stat = (entry / "stat").read_text()
                ppid = int(stat[stat.rindex(")") + 2:].split()[1])
                if ppid == parent and CHILD_MARK in (entry / "cmdline").read_bytes():
                    found.append(int(entry.name))
            except (OSError, ValueError, IndexError):
                continue
    except OSError:
        pass
    return found


def _training_siblings() -> int:
    """How many live-training processes (this one included) the same server runs."""
    return max(len(training_processes(os.getppid())), 1)


def fair_threads(siblings: int, cores: int) -> int:
    """torch threads for one of `siblings` training processes on `cores` cores: the cores shared out, at least 1.

    Many processes each running an OpenMP team of all cores spin against each other: on 2 cores, four
    processes of 2 threads trained 28 steps/s together, four of 1 thread 312 (one alone: 257 with 2).
    """
    return max(1, cores // max(siblings, 1))


class LiveTrainingError(RuntimeError):
    """The training process refused a command or is gone; the message says why."""


class LiveTrainer:
    """The owner's handle on a training process. Every method is one request and its reply."""

    def __init__(self, config, limit: int | None = None, heartbeat_timeout: float = 60.0, device: str = "cpu",
                 launcher: str = "spawn" if os.name == "nt" else "exec"):
        self.config = config
        launch = {"exec": _launch_exec, "spawn": _launch_spawn}[launcher]
        self._conn, self.process = launch((config.to_dict(), limit, heartbeat_timeout, device))
        # One request in flight: a session's reruns, fragments and callbacks call from different threads, and
        # an interleaved send/receive hands one caller the other's reply.
        self._lock = threading.Lock()
        self.ready = self._request("hello", timeout=300)  # the child has loaded the data and built the model

    def _request(self, command: str, timeout: float = 60.0, **arguments):
        if not self.alive:
            raise LiveTrainingError("the training process has ended (the session was idle too long, or it crashed)")
        try:
            with self._lock:
                self._conn.send((command, arguments))
                if not self._conn.poll(timeout):
                    raise LiveTrainingError(f"the training process did not answer {command!r} within {timeout:.0f} s")
                ok, reply = self._conn.recv()
        except (EOFError, BrokenPipeError, ConnectionResetError, OSError):
            raise LiveTrainingError("the training process has ended") from None
        if not ok:
            raise LiveTrainingError(reply)
        return reply

    def play(self) -> None:
        self._request("play")

    def pause(self) -> None:
        self._request("pause")

    def step(self, seconds: float = RECORD_SECONDS, steps: int | None = None) -> int:
        """Train about `seconds` (or exactly `steps` steps) while paused; returns the step count."""
        return self._request("step", timeout=max(60.0, 10 * seconds), seconds=seconds, steps=steps)

    def update(self, **changes) -> None:
        self._request("update", changes=changes)

    def snapshot(self, probe: bool = True) -> dict:
        """step, epoch, playing, message, history, kl_per_dim, and with `probe`: coords, names, labels,
        originals, recon (numpy arrays)."""
        return self._request("snapshot", probe=probe)

    def save(self, path, meta: dict | None = None) -> str:
        return self._request("save", timeout=300, path=str(path), meta=meta or {})

    def stop(self) -> None:
        """End the process (its model is gone: save first)."""
        try:
            self._request("stop", timeout=10)
        except LiveTrainingError:
            pass
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            pass
        if self.alive:
            self.process.kill()
            self.process.wait(timeout=5)
        self._conn.close()

    @property
    def alive(self) -> bool:
        return self.process.poll() is None


def _launch_exec(arguments: tuple) -> tuple[Connection, subprocess.Popen]:
    """`python -m vae.live FD`: a fresh interpreter that imports only `vae`; the socket's other end is FD."""
    ours, theirs = socket.socketpair()
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(filter(None, [str(PROJECT_ROOT), os.environ.get("PYTHONPATH")])))
    with theirs:
        process = subprocess.Popen([sys.executable, "-m", "vae.live", str(theirs.fileno())], pass_fds=[theirs.fileno()],
                                   stdin=subprocess.DEVNULL, env=env)
    conn = Connection(ours.detach())
    conn.send(arguments)
    return conn, process


class _SpawnedProcess:
    """multiprocessing's Process behind the few Popen methods LiveTrainer uses (the Windows fallback)."""

    def __init__(self, process):
        self._process, self.pid = process, process.pid

    def poll(self):
        return None if self._process.is_alive() else self._process.exitcode

    def wait(self, timeout=None):
        self._process.join(timeout)
        return self._process.exitcode

    def kill(self):
        self._process.kill()


def _launch_spawn(arguments: tuple) -> tuple[Connection, _SpawnedProcess]:
    context = multiprocessing.get_context("spawn")
    ours, theirs = context.Pipe()
    process = context.Process(target=_serve, args=(theirs, *arguments), daemon=True, name="vae-live-training")
    process.start()
    theirs.close()
    return ours, _SpawnedProcess(process)


def _child_main(fd: int) -> None:
    """Entry point of `python -m vae.live FD`: the owner's first message is the run's arguments."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C in the server's terminal is for the server; its exit ends us
    conn = Connection(fd)
    try:
        arguments = conn.recv()
    except (EOFError, OSError):
        return
    _serve(conn, *arguments)


class _Session:
    """The child's state and its answers to commands."""

    def __init__(self, config_dict: dict, limit: int | None, device: str):
        from .config import VAEConfig
        from .data import load_dataset
        from .train import Trainer

        self.config = VAEConfig.from_dict(config_dict)
        train = load_dataset(self.config.dataset, "train").subset(limit)
        self.test = load_dataset(self.config.dataset, "test")
        self.test_images = self.test.to_float()
        self.trainer = Trainer(self.config, train.to_float(), device)
        self.train_source, self.train_examples = train.source, len(train)
        self.playing, self.message = False, None
        self.history: list[dict] = []
        self.kl_per_dim: list[float] = []
        self.pending: list = []
        self.rate = 0.0
        self.threads_checked = 0.0

    # -- training --------------------------------------------------------------------------------
    def share_cores(self) -> None:
        """Every few seconds: as many torch threads as this process's share of the cores."""
        import os

        import torch

        now = time.monotonic()
        if now - self.threads_checked < THREADS_EVERY:
            return
        self.threads_checked = now
        threads = fair_threads(_training_siblings(), len(os.sched_getaffinity(0)))
        if threads != torch.get_num_threads():
            torch.set_num_threads(threads)

    def train_chunk(self, seconds: float = CHUNK_SECONDS) -> None:
        from .train import DivergenceError

        self.share_cores()
        steps = max(1, int(self.rate * seconds)) if self.rate > 0 else 2
        try:
            metrics = self.trainer.run(steps)
        except DivergenceError as exc:  # the trainer is back at its last good step: pause and say so
            self.flush()
            self.playing = False
            self.message = f"Paused: {exc}"
            return
        self.rate = metrics.steps_per_s
        self.pending.append(metrics)
        if sum(m.seconds for m in self.pending) >= RECORD_SECONDS:
            self.flush()

    def flush(self) -> None:
        from .train import TrainMetrics

        if not self.pending:
            return
        m = TrainMetrics.combine(self.pending)
        self.pending = []
        self.history.append({"step": m.step, "epoch": m.epoch, "elbo": m.elbo, "reconstruction": m.reconstruction,
                             "kl": m.kl, "loss": m.loss, "steps_per_s": m.steps_per_s,
                             "active_dims": m.active_dims()})
        self.kl_per_dim = m.kl_per_dim

    # -- commands --------------------------------------------------------------------------------
    def hello(self):
        return {"train_examples": self.train_examples, "train_source": self.train_source,
                "test_source": self.test.source}

    def play(self):
        self.playing, self.message = True, None

    def pause(self):
        self.playing = False
        self.flush()

    def step(self, seconds: float, steps: int | None = None):
        self.message = None
        if steps is not None:
            self.pending.append(self.trainer.run(steps))  # a DivergenceError is the command's answer
        else:
            end = time.perf_counter() + seconds
            while time.perf_counter() < end and self.message is None:
                self.train_chunk()
        self.flush()
        return self.trainer.step

    def update(self, changes: dict):
        self.trainer.update(**changes)

    def snapshot(self, probe: bool):
        import numpy as np

        reply = {"step": self.trainer.step, "epoch": self.trainer.epoch, "playing": self.playing,
                 "message": self.message, "history": list(self.history), "kl_per_dim": list(self.kl_per_dim),
                 "config": self.trainer.config.to_dict(), "threads": __import__("torch").get_num_threads()}
        if probe:
            from .latent import decode, encode_dataset

            model = self.trainer.model
            mu = encode_dataset(model, self.test_images[:PROBE])[0].numpy()
            kl = self.kl_per_dim
            dims = [0, 0] if mu.shape[1] == 1 else (list(np.argsort(kl)[::-1][:2]) if kl else [0, 1])
            reply.update(coords=mu[:, dims], names=[f"z{d + 1}" for d in dims],
                         labels=self.test.labels[:PROBE].numpy(),
                         originals=self.test_images[:RECON].numpy().reshape(-1, *self.config.image_shape),
                         recon=decode(model, mu[:RECON]).numpy())
        return reply

    def stop(self):
        """Answered, then the loop ends."""

    def save(self, path: str, meta: dict):
        from . import checkpoint
        from .cli import reproduce_command
        from .latent import test_latent_extras

        self.flush()
        extras = test_latent_extras(self.trainer.model, self.test_images, self.test.labels, tsne=False)
        meta = {"command": reproduce_command(self.trainer.config) + f"  # trained live for {self.trainer.step} steps",
                "steps": self.trainer.step, "data_source": self.train_source, **meta}
        checkpoint.save(path, self.trainer.model, {"train": self.history[-1] if self.history else {}}, meta, extras)
        return path


def _serve(conn, config_dict: dict, limit: int | None, heartbeat_timeout: float, device: str) -> None:
    """The child's main loop."""
    if hasattr(os, "nice"):  # the server renders every session's page: it must not wait behind the training
        os.nice(NICENESS)
    try:
        session = _Session(config_dict, limit, device)
    except Exception as exc:  # report why the run could not start, then end
        _answer_first(conn, f"the model could not be built: {exc}")
        return
    last_heard = time.monotonic()
    while True:
        try:
            ready = conn.poll(0 if session.playing else 0.5)
            if ready:
                command, arguments = conn.recv()
        except (EOFError, OSError):
            return  # the owner is gone
        if ready:
            last_heard = time.monotonic()
            try:
                if command not in COMMANDS:
                    raise ValueError(f"unknown command {command!r}")
                reply = (True, getattr(session, command)(**arguments))
            except Exception as exc:  # a refused command (e.g. σ_dec ≤ 0) is an answer, not a crash
                reply = (False, str(exc))
            try:
                conn.send(reply)
            except (OSError, BrokenPipeError):
                return
            if command == "stop":
                return
        elif time.monotonic() - last_heard > heartbeat_timeout:
            return  # nobody has asked for anything in a long while: the session has gone
        if session.playing:
            session.train_chunk()


def _answer_first(conn, error: str) -> None:
    try:
        if conn.poll(300):
            conn.recv()
            conn.send((False, error))
    except (EOFError, OSError):
        pass


if __name__ == "__main__":
    _child_main(int(sys.argv[1]))
