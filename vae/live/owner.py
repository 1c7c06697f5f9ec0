"""On the server: the owner's handle on one training process. Every method is one request and its reply."""
from __future__ import annotations

import subprocess

from .launch import DEFAULT_LAUNCHER, LAUNCHERS, run_arguments
from .protocol import RECORD_SECONDS, Caller, LiveTrainingError


class LiveTrainer:
    """A training process that one owner (a browser session) controls; safe to call from several threads."""

    def __init__(self, config, limit: int | None = None, heartbeat_timeout: float = 60.0, device: str = "cpu",
                 launcher: str = DEFAULT_LAUNCHER):
        self.config = config
        conn, self.process = LAUNCHERS[launcher](run_arguments(config, limit, heartbeat_timeout, device))
        self._caller = Caller(conn)
        self.ready = self._request("hello", timeout=300)  # the child has its data and has built the model

    def _request(self, command: str, timeout: float = 60.0, **arguments):
        if not self.alive:
            raise LiveTrainingError("the training process has ended (the session was idle too long, or it crashed)")
        return self._caller.call(command, timeout, **arguments)

    def play(self) -> None:
        self._request("play")

    def pause(self) -> None:
        self._request("pause")

    def step(self, seconds: float = RECORD_SECONDS, steps: int | None = None) -> int:
        """Train about `seconds` (or exactly `steps` steps) while paused; returns the step count."""
        return self._request("step", timeout=max(60.0, 10 * seconds), seconds=seconds, steps=steps)

    def step_once(self) -> dict:
        """One optimiser step, in slow motion: its minibatch, and the batch's terms and reconstructions before and
        after it (see vae.live.child.ChildSession.step_once)."""
        return self._request("step_once")

    def mark(self) -> int:
        """Keep a snapshot of this step in the timeline, out of turn (the step a link shows)."""
        return self._request("mark")

    def decoder(self) -> dict:
        """The decoder's layers now and the probe digits' latent means (see ChildSession.decoder_now)."""
        return self._request("decoder_now")

    def timeline(self, since: int = -1):
        """The run's vae.timeline.Timeline: its snapshots after step `since` (all of them by default)."""
        return self._request("timeline_since", since=since)

    def update(self, **changes) -> None:
        self._request("update", changes=changes)

    def snapshot(self, probe: bool = True) -> dict:
        """step, epoch, playing, message, history, kl_per_dim, settings, and with `probe`: picture (the live
        vae.timeline.Snapshot, its map included), coords, names, labels, originals, recon (numpy arrays)."""
        return self._request("snapshot", probe=probe)

    def save(self, path, meta: dict | None = None, latents: bool = True) -> str:
        return self._request("save", timeout=300, path=str(path), meta=meta or {}, latents=latents)

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
        self._caller.close()
        self.process.close()

    @property
    def alive(self) -> bool:
        return self.process.poll() is None
