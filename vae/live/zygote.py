"""The zygote (`python -m vae.live.zygote FD`): imports torch and the library once, holds the data splits,
and forks one training process per run. Runs in its own process, started by the server (launch.py).

Each fork shares the zygote's pages until it writes to them: torch's ~300 MB of imported code and
data, and the uint8 training split (47 MB for MNIST), are in memory once per server, not once per
session. The zygote runs no torch operation itself (an OpenMP team started before a fork does not
survive into the child), ignores SIGCHLD so the kernel reaps its forks, and ends when the server's
end of the control pipe closes. Its forks run at NICENESS: the server renders every session's page.
"""
from __future__ import annotations

import gc
import os
import signal
import sys
from multiprocessing.connection import Connection
from multiprocessing.reduction import recv_handle

from .cores import NICENESS, available_cores, fair_threads, siblings
from .protocol import DATA_ENV


def main(fd: int) -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C in the server's terminal is for the server
    if hasattr(os, "nice"):
        os.nice(NICENESS)
    import torch  # noqa: F401  (imported here once: every fork shares it)
    import torch._dynamo  # noqa: F401  (an optimiser's first param group imports it, and with it triton: ~150 MB)

    from .. import checkpoint, cli, latent, train  # noqa: F401  (what a child imports when it saves)
    from . import child, child_loop  # noqa: F401

    signal.signal(signal.SIGCHLD, signal.SIG_IGN)
    control = Connection(fd)
    splits: dict = {}
    while True:
        try:
            arguments = control.recv()
            child_fd = recv_handle(control)
        except (EOFError, OSError):
            return  # the server has gone; running forks notice on their own pipes
        make_session = _session_maker(arguments, splits)
        gc.freeze()  # the collector would otherwise touch (and so copy) every shared object in each fork
        pid = os.fork()
        if pid == 0:
            control.close()
            try:
                child_loop.serve(Connection(child_fd), make_session, arguments["heartbeat_timeout"])
            finally:
                os._exit(0)
        os.close(child_fd)
        control.send(pid)


def _session_maker(arguments: dict, splits: dict):
    """Load the run's splits here, before the fork (kept for later runs); the fork builds the session."""
    from ..data import load_dataset
    from .child import ChildSession

    dataset, env = arguments["config"]["dataset"], arguments["env"]
    try:
        key = (dataset, tuple(sorted(env.items())))
        if key not in splits:
            saved = {name: os.environ.get(name) for name in DATA_ENV}
            os.environ.update({k: v for k, v in env.items() if v is not None})
            for name in DATA_ENV:
                if env.get(name) is None:
                    os.environ.pop(name, None)
            try:
                splits[key] = (load_dataset(dataset, "train"), load_dataset(dataset, "test"))
            finally:
                os.environ.update({k: v for k, v in saved.items() if v is not None})
                for name, value in saved.items():
                    if value is None:
                        os.environ.pop(name, None)
        train, test = splits[key]
        train = train.subset(arguments["limit"])
    except Exception as exc:
        error = exc

        def refuse():
            raise error
        return refuse

    def make_session():
        import torch

        torch.set_num_threads(fair_threads(siblings(), available_cores()))
        return ChildSession(arguments["config"], train, test, arguments["device"], arguments["limit"])
    return make_session


if __name__ == "__main__":
    main(int(sys.argv[1]))
