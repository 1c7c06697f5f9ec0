"""Live training: a model trained in its own process while one browser session watches and steers it.

Server side (the side of the pipe a browser session holds):
    owner.py       LiveTrainer, the handle: play, pause, step, update, snapshot, save, stop
    launch.py      how a training process starts: forked by the server's zygote, or spawned (Windows)
    zygote.py      the pre-loaded process that forks training processes (torch and the data shared)
Both sides:
    protocol.py    requests and replies matched by id; one in flight per connection
Training-process side:
    child_loop.py  its main loop: answer requests, train in chunks between them, end with its owner
    child.py       the run: its model and data, and what each command does to them
    cores.py       how the training processes share the cores (/proc)
"""
from .cores import NICENESS, fair_threads, training_processes
from .owner import LiveTrainer
from .protocol import LiveTrainingError

__all__ = ["LiveTrainer", "LiveTrainingError", "NICENESS", "fair_threads", "training_processes"]
