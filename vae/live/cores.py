"""How the training processes of one server share the machine's cores (Linux's /proc; elsewhere a no-op).

The server starts one zygote (`python -m vae.live.zygote`); every training process is a fork of it.
"""
from __future__ import annotations

import os
from pathlib import Path

NICENESS = 10  # the training processes yield the cores to the server (and local browsers) whenever it needs them
MARK = b"\0-m\0vae.live.zygote\0"  # in /proc/PID/cmdline of the zygote and of every fork of it


def _marked_children(parent: int) -> list[int]:
    found = []
    try:
        for entry in Path("/proc").iterdir():
            if not entry.name.isdigit():
                continue
            try:
                stat = (entry / "stat").read_text()
                ppid = int(stat[stat.rindex(")") + 2:].split()[1])
                if ppid == parent and MARK in (entry / "cmdline").read_bytes():
                    found.append(int(entry.name))
            except (OSError, ValueError, IndexError):
                continue
    except OSError:
        pass
    return found


def training_processes(server: int) -> list[int]:
    """The pids of the training processes that `server` runs: the forks of its zygote(s)."""
    return [child for zygote in _marked_children(server) for child in _marked_children(zygote)]


def siblings() -> int:
    """In a training process: how many training processes (this one included) its zygote runs."""
    return max(len(_marked_children(os.getppid())), 1)


def fair_threads(siblings: int, cores: int) -> int:
    """torch threads for one of `siblings` training processes on `cores` cores: the cores shared out, at least 1.

    Many processes each running an OpenMP team of all cores spin against each other: on 2 cores, four
    processes of 2 threads trained 28 steps/s together, four of 1 thread 312 (one alone: 257 with 2).
    """
    return max(1, cores // max(siblings, 1))


def available_cores() -> int:
    """The cores this process may use (its CPU affinity), at most OMP_NUM_THREADS where that is set: torch's own
    default honours it, and so do the training processes."""
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    cap = os.environ.get("OMP_NUM_THREADS", "")
    return max(1, min(cores, int(cap))) if cap.isdigit() and int(cap) > 0 else cores
