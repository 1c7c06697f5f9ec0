"""The live-training process: same steps as the in-process Trainer, commands, and its end."""
import time

import pytest
import torch

from vae import VAEConfig, checkpoint
from vae.data import load_dataset
from vae.live import LiveTrainer, LiveTrainingError
from vae.train import Trainer

CONFIG = VAEConfig(latent_dim=2, hidden=(64,), batch_size=64, seed=7)


@pytest.fixture(params=["exec", "spawn"])  # `python -m vae.live` (POSIX), multiprocessing's spawn (Windows)
def live(mnist_dir, request):
    trainer = LiveTrainer(CONFIG, limit=2000, launcher=request.param)
    yield trainer
    trainer.stop()


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


def test_the_training_process_does_not_run_the_servers_main_script(mnist_dir, tmp_path, monkeypatch):
    """Inside Streamlit, `__main__` is the app script: a child must not run it (900 MB and seconds of CPU each)."""
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
    trainer = LiveTrainer(CONFIG, limit=500)
    try:
        assert trainer.step(steps=2) == 2
        assert not marker.exists(), "the training process ran the server's __main__"
        assert training_processes(os.getpid()) == [trainer.process.pid]  # `python -m vae.live`, our child
        # and it yields the cores to the server, which renders every session's page
        assert os.getpriority(os.PRIO_PROCESS, trainer.process.pid) == min(19, os.getpriority(os.PRIO_PROCESS, 0) + NICENESS)
    finally:
        trainer.stop()


def test_play_pause_update_and_snapshot(live):
    live.play()
    time.sleep(1.5)
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


def test_training_processes_share_the_cores_instead_of_spinning_against_each_other(mnist_dir):
    import os

    from vae.live import fair_threads

    assert fair_threads(1, 2) == 2 and fair_threads(4, 2) == 1 and fair_threads(2, 16) == 8
    cores = len(os.sched_getaffinity(0))
    trainers = [LiveTrainer(CONFIG.replace(seed=s), limit=500) for s in (1, 2)]
    try:
        for t in trainers:
            t.play()
        time.sleep(3 * 2.0)  # a look at the siblings happens every 2 s of training
        assert [t.snapshot(probe=False)["threads"] for t in trainers] == [fair_threads(2, cores)] * 2
    finally:
        for t in trainers:
            t.stop()


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
                   (probe, ping, ping, lambda: trainer.update(beta=1.5), lambda: (trainer.pause(), trainer.play()))]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert not errors, errors[:5]
        trainer.play()
        before = trainer.snapshot(probe=False)["step"]
        time.sleep(1.0)
        assert trainer.snapshot(probe=False)["step"] > before  # it still trains and answers
    finally:
        trainer.stop()
