"""The live-training process: same steps as the in-process Trainer, commands, and its end."""
import time

import pytest
import torch

from tests.support import eventually
from vae import VAEConfig, checkpoint
from vae.data import load_dataset
from vae.live import LiveTrainer, LiveTrainingError
from vae.train import Trainer

CONFIG = VAEConfig(latent_dim=2, hidden=(64,), batch_size=64, seed=7)


@pytest.fixture
def live(mnist_dir):
    """A training process forked by `python -m vae.live.zygote`, as on a POSIX server. The spawn launcher (the
    fallback where descriptors cannot be passed, Windows) is started below, with the one thing it must get right."""
    trainer = LiveTrainer(CONFIG, limit=2000, launcher="zygote")
    yield trainer
    trainer.stop()


@pytest.mark.slow
def test_the_child_takes_the_same_steps_as_the_trainer_in_process(live, mnist_dir, tmp_path):
    assert live.ready["train_examples"] == 2000
    assert live.step(steps=30) == 30
    live.save(tmp_path / "live.safetensors")
    here = Trainer(CONFIG, load_dataset("mnist", "train", mnist_dir).subset(2000).to_float(), "cpu")
    here.run(30)
    saved = checkpoint.load(tmp_path / "live.safetensors")
    for name, tensor in here.model.state_dict().items():
        torch.testing.assert_close(saved.model.state_dict()[name], tensor, rtol=0, atol=1e-6)
    assert saved.meta["steps"] == 30 and saved.extras["test_mu"].shape == (10_000, 2)


@pytest.mark.parametrize("launcher", ["zygote", "spawn"])
def test_the_training_process_does_not_run_the_servers_main_script(mnist_dir, tmp_path, monkeypatch, launcher):
    """Inside Streamlit, `__main__` is the app script: a child must not run it (900 MB and seconds of CPU each;
    under AppTest, the last script run, which failed in a bare child)."""
    import os
    import sys
    import types

    from vae.live import NICENESS, training_processes

    marker = tmp_path / "ran"
    script = tmp_path / "app_like.py"
    script.write_text(f"open({str(marker)!r}, 'w').close()\n")
    fake_main = types.ModuleType("__main__")
    fake_main.__file__ = str(script)  # what Streamlit's script runner installs for each run
    monkeypatch.setitem(sys.modules, "__main__", fake_main)
    trainer = LiveTrainer(CONFIG, limit=500, launcher=launcher)
    try:
        assert trainer.step(steps=2) == 2
        assert not marker.exists(), "the training process ran the server's __main__"
        if launcher == "spawn":
            return
        assert training_processes(os.getpid()) == [trainer.process.pid]  # a fork of our `python -m vae.live.zygote`
        # and it yields the cores to the server, which renders every session's page
        assert os.getpriority(os.PRIO_PROCESS, trainer.process.pid) == min(19, os.getpriority(os.PRIO_PROCESS, 0) + NICENESS)
    finally:
        trainer.stop()


def test_play_pause_update_and_snapshot(live):
    live.play()
    assert eventually(lambda: live.snapshot(probe=False)["step"] > 0)
    live.pause()
    first = live.snapshot()
    assert first["step"] > 0 and first["history"] and not first["playing"]
    assert first["coords"].shape == (1000, 2) and first["recon"].shape == (8, 28, 28)
    time.sleep(0.5)
    assert live.snapshot(probe=False)["step"] == first["step"]  # paused
    live.update(lr=1e-4, beta=0.5, sigma_dec=0.1)
    assert live.snapshot(probe=False)["config"]["sigma_dec"] == 0.1
    with pytest.raises(LiveTrainingError, match="sigma_dec"):
        live.update(sigma_dec=0.0)
    with pytest.raises(LiveTrainingError, match="latent_dim cannot change"):
        live.update(latent_dim=3)
    assert live.alive and live.snapshot(probe=False)["step"] == first["step"]  # refusals lose nothing


def test_stop_ends_the_process(live):
    live.stop()
    assert not live.alive
    with pytest.raises(LiveTrainingError, match="ended"):
        live.snapshot()


def test_the_process_ends_when_its_owner_stops_asking(mnist_dir):
    trainer = LiveTrainer(CONFIG, limit=500, heartbeat_timeout=1.0)
    try:
        trainer.play()
        deadline = time.monotonic() + 20
        while trainer.alive and time.monotonic() < deadline:
            time.sleep(0.2)
        assert not trainer.alive, "the training process outlived its owner's silence"
    finally:
        trainer.stop()


def test_a_model_that_cannot_be_built_is_a_message(mnist_dir):
    with pytest.raises(LiveTrainingError, match="could not be built"):
        LiveTrainer(CONFIG, limit=0)


@pytest.mark.slow
def test_training_processes_share_the_cores_instead_of_spinning_against_each_other(mnist_dir):
    import os

    from vae.live import fair_threads
    from vae.live.cores import available_cores

    assert fair_threads(1, 2) == 2 and fair_threads(4, 2) == 1 and fair_threads(2, 16) == 8
    with pytest.MonkeyPatch.context() as patch:  # OMP_NUM_THREADS caps the cores a training process counts
        patch.setenv("OMP_NUM_THREADS", "1")
        assert available_cores() == 1
        patch.setenv("OMP_NUM_THREADS", "64")
        assert available_cores() == len(os.sched_getaffinity(0))
        patch.setenv("OMP_NUM_THREADS", "x")
        assert available_cores() == len(os.sched_getaffinity(0))
    cores = len(os.sched_getaffinity(0))
    trainers = [LiveTrainer(CONFIG.replace(seed=s), limit=500) for s in (1, 2)]
    try:
        for t in trainers:
            t.play()
        fair = [fair_threads(2, cores)] * 2  # a look at the siblings happens every 2 s of training
        assert eventually(lambda: [t.snapshot(probe=False)["threads"] for t in trainers] == fair, timeout=20), \
            [t.snapshot(probe=False)["threads"] for t in trainers]
    finally:
        for t in trainers:
            t.stop()


@pytest.mark.slow
def test_one_trainer_driven_from_several_threads_at_once(mnist_dir):
    """A session's fragment, callbacks and reruns share one trainer from different threads: every reply must be
    its own request's (the monkey saw a cheap ping's snapshot, without `names`, handed to the page's panel)."""
    import threading

    trainer = LiveTrainer(CONFIG, limit=2000)
    errors, end = [], time.monotonic() + 4

    def hammer(action):
        try:
            while time.monotonic() < end:
                action()
        except Exception as exc:  # noqa: BLE001 - collected and reported below
            errors.append(repr(exc))

    def probe():
        snap = trainer.snapshot()
        assert {"names", "coords", "recon"} <= set(snap), sorted(snap)

    def ping():
        snap = trainer.snapshot(probe=False)
        assert "names" not in snap

    try:
        trainer.play()
        threads = [threading.Thread(target=hammer, args=(a,)) for a in
                   (probe, ping, ping, lambda: trainer.update(beta=1.5), lambda: (trainer.pause(), trainer.play()),
                    lambda: trainer.step(seconds=0.05))]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert not errors, errors[:5]
        trainer.play()
        before = trainer.snapshot(probe=False)["step"]
        assert eventually(lambda: trainer.snapshot(probe=False)["step"] > before)  # it still trains and answers
    finally:
        trainer.stop()


def test_a_late_reply_is_discarded_never_read_as_the_next_answer(live):
    """A reply that came after its caller stopped waiting was read as the answer to the next request (the
    Train page then unpickled garbage or showed a step count as a snapshot)."""
    with pytest.raises(LiveTrainingError, match="did not answer"):
        live._request("step", timeout=0.05, seconds=1.0)
    snap = live.snapshot(probe=False)  # the step's late reply (an int) comes first and is thrown away
    assert isinstance(snap, dict) and snap["step"] > 0
    assert live._caller.discarded == 1
    assert live.step(steps=3) == snap["step"] + 3  # and the pipe is in step again


def private_mb(pid: int) -> float:
    """Memory only this process holds (Private_Clean + Private_Dirty of /proc/PID/smaps_rollup), in MB."""
    from pathlib import Path

    fields = dict(line.split(":", 1) for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines()[1:])
    return sum(int(fields[k].split()[0]) for k in ("Private_Clean", "Private_Dirty")) / 1024


@pytest.mark.skipif(not __import__("os").path.exists("/proc/self/smaps_rollup"), reason="Linux /proc only")
def test_a_training_process_shares_torch_and_the_training_split(mnist_dir):
    """Each child imported torch and copied the training split as floats: ~470 MB of its own per session.
    Forked from the zygote, a child owns only what it writes (its model, optimiser, batches): the ≤ 150 MB a
    session may add is mostly what the shared pages cost it."""
    trainers = [LiveTrainer(CONFIG.replace(seed=s)) for s in (1, 2)]  # the whole 60,000-digit split
    try:
        for t in trainers:
            t.step(steps=50)
            t.snapshot()
        own = [private_mb(t.process.pid) for t in trainers]
        assert max(own) < 60, own  # measured: 18 MB each (128 MB before torch._dynamo was imported in the zygote)
    finally:
        for t in trainers:
            t.stop()


def test_a_saved_live_run_says_the_command_that_retrains_it(mnist_dir, tmp_path):
    """The saved command said `--epochs 10 … # trained live for 7152 steps`: it must retrain what was trained."""
    import shlex

    from vae.cli import main

    trainer = LiveTrainer(CONFIG.replace(lr=3e-3), limit=2000)
    try:
        trainer.update(lr=1e-3, beta=0.5)  # before any step: these are the settings it trains with
        trainer.step(steps=37)
        trainer.save(tmp_path / "live.safetensors")
        trainer.update(beta=2.0)
        trainer.step(steps=5)
        trainer.save(tmp_path / "changed.safetensors")
    finally:
        trainer.stop()
    live = checkpoint.load(tmp_path / "live.safetensors")
    command = live.meta["command"]
    assert "--steps 37" in command and "--limit 2000" in command and "--lr 0.001" in command and "--beta 0.5" in command
    argv = shlex.split(command)[3:] + ["--data-dir", str(mnist_dir), "--out", str(tmp_path / "cli.safetensors"),
                                        "--eval-iw-samples", "0"]
    assert main(argv[:-4] + ["--steps", "-1", "--out", str(tmp_path / "no.safetensors")]) == 2  # a clear refusal
    assert main(argv) == 0
    again = checkpoint.load(tmp_path / "cli.safetensors")
    for name, tensor in live.model.state_dict().items():
        torch.testing.assert_close(again.model.state_dict()[name], tensor, rtol=0, atol=1e-5)
    changed = checkpoint.load(tmp_path / "changed.safetensors").meta
    assert changed["command"].startswith("No single command reproduces this model")
    assert "from step 37: lr 0.001, β 2" in changed["command"]
    assert [s["step"] for s in changed["settings"]] == [0, 37]
