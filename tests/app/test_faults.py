"""Faults: a diverging run keeps its last good weights; kill -9 mid-save keeps the previous checkpoint."""
import os
import signal
import subprocess
import sys
import time

import pytest
import torch

from tests.support.app import session
from tests.support import ROOT
from tests.support.cli import vae_here
from vae import VAE, VAEConfig, checkpoint
from vae.data import load_sample
from vae.live import LiveTrainer, LiveTrainingError
from vae.train import DivergenceError, Trainer

UNSTABLE = VAEConfig(latent_dim=2, hidden=(64,), batch_size=64, seed=1, lr=10.0, sigma_dec=0.05)


def weights(model):
    return torch.cat([p.detach().flatten() for p in model.parameters()])


def test_a_diverging_slice_is_undone_and_training_can_go_on():
    data = load_sample().to_float()
    trainer = Trainer(UNSTABLE, data, "cpu")
    good = None
    with pytest.raises(DivergenceError, match="diverged") as caught:
        for _ in range(200):
            good = (weights(trainer.model).clone(), trainer.step)
            trainer.run(5)
    assert torch.equal(weights(trainer.model), good[0]) and trainer.step == good[1] == caught.value.good_step
    assert torch.isfinite(weights(trainer.model)).all()
    assert "weights of step" in str(caught.value) and "lr = 10" in str(caught.value)
    trainer.update(lr=1e-3)
    m = trainer.run(5)  # the session continues from the last good weights
    assert m.step == good[1] + 5 and torch.isfinite(torch.tensor(m.loss))


@pytest.mark.slow
def test_the_live_process_pauses_on_divergence_keeps_weights_and_continues(mnist_dir, tmp_path):
    live = LiveTrainer(UNSTABLE, limit=1000)
    try:
        live.play()
        deadline = time.monotonic() + 60
        snap = live.snapshot(probe=False)
        while not snap["message"] and time.monotonic() < deadline:
            time.sleep(0.3)
            snap = live.snapshot(probe=False)
        assert "diverged" in snap["message"] and "weights of step" in snap["message"] and not snap["playing"]
    finally:
        live.stop()
    # Where a slice ends while playing depends on the clock; weights kept after a few steps at lr = 10 stay
    # poisoned (they diverge again at lr = 1e-4). From one 50-step slice the kept weights are step 0's.
    live = LiveTrainer(UNSTABLE, limit=1000)
    try:
        with pytest.raises(LiveTrainingError, match="diverged") as error:
            live.step(steps=50)
        assert "weights of step 0 are kept" in str(error.value)
        live.save(tmp_path / "kept.safetensors")  # the kept weights are finite: the checkpoint loads
        kept = checkpoint.load(tmp_path / "kept.safetensors")
        assert torch.isfinite(weights(kept.model)).all()
        live.update(lr=1e-3, sigma_dec=0.3)
        assert live.step(steps=10) == 10
        assert live.snapshot(probe=False)["message"] is None
    finally:
        live.stop()


def test_the_cli_stops_a_diverging_run_with_a_message(tmp_path, monkeypatch, capsys):
    """Through the CLI's main() in this process (an exception escaping it, a traceback, fails the test)."""
    monkeypatch.delenv("VAE_DATA_DIR", raising=False)  # the shipped sample: the data the Trainer test diverges on
    code, _, err = vae_here(capsys, "train", "--epochs", 40, "--hidden", 64, "--lr", 10, "--sigma-dec", 0.05,
                            "--batch-size", 64, "--seed", 1, "--out", tmp_path / "d.safetensors", "--eval-iw-samples", 0)
    assert code == 2 and "training diverged" in err and "Traceback" not in err
    assert "Nothing was saved" in err and not (tmp_path / "d.safetensors").exists()


WRITER = """
import os, sys, torch
torch.set_num_threads(1)  # no OpenMP team before the forks (one would not survive into them)
from vae import VAE, VAEConfig, checkpoint
path = sys.argv[1]
models = []
for seed in (1, 2):
    torch.manual_seed(seed)
    models.append(VAE(VAEConfig(latent_dim=8, hidden=(1024, 1024))))
for _ in sys.stdin:  # a line asks for a writer: a fork (torch is imported once), which saves over and over
    pid = os.fork()
    if pid == 0:
        i = 0
        while True:
            checkpoint.save(path, models[i % 2], meta={"version": i % 2})
            i += 1
            print("saved", flush=True)
    print("writer", pid, flush=True)
    os.waitpid(pid, 0)
    print("reaped", flush=True)
"""


@pytest.mark.slow
def test_kill_9_while_saving_leaves_the_previous_checkpoint_loadable(tmp_path):
    """A writer saves a 12 MB checkpoint over and over; SIGKILL lands at random moments of a write. Each writer is a
    fork of one process that imported torch and built the two models once."""
    path = tmp_path / "m.safetensors"
    expected = []
    for seed in (1, 2):
        torch.manual_seed(seed)
        expected.append(weights(VAE(VAEConfig(latent_dim=8, hidden=(1024, 1024)))))
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    maker = subprocess.Popen([sys.executable, "-c", WRITER, str(path)], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                             text=True, env=env)
    try:
        for trial in range(6):
            maker.stdin.write("go\n")
            maker.stdin.flush()
            pid, saves = None, 0
            while pid is None or saves < 1 + trial % 3:  # wait for a save or three to complete
                line = maker.stdout.readline()
                assert line, "the writer died"
                if line.startswith("writer"):
                    pid = int(line.split()[1])
                else:
                    saves += 1
            time.sleep(0.013 * trial)  # then kill somewhere inside a later write
            os.kill(pid, signal.SIGKILL)
            while (line := maker.stdout.readline()) != "reaped\n":  # saves ended before the kill; then it is reaped
                assert line, "the writers' maker died"
            ckpt = checkpoint.load(path)  # never half-written
            assert torch.equal(weights(ckpt.model), expected[ckpt.meta["version"]])
    finally:
        maker.kill()
        maker.wait()
    leftovers = [p.name for p in tmp_path.iterdir() if p.name != path.name]
    assert all(name.startswith(".m.safetensors.") and name.endswith(".tmp") for name in leftovers)
    from vae import catalog

    assert [i.name for i in catalog.list_checkpoints(tmp_path)] == ["m"]  # a killed write's temp file is not listed


def test_a_corrupt_data_folder_gives_a_clear_notice_and_the_app_still_serves(tmp_path, monkeypatch):
    import streamlit as st

    raw = tmp_path / "data" / "MNIST" / "raw"
    raw.mkdir(parents=True)
    (raw / "t10k-images-idx3-ubyte").write_bytes((2051).to_bytes(4, "big") + (10_000).to_bytes(4, "big")
                                                  + (28).to_bytes(4, "big") * 2 + b"\0" * 1000)  # truncated
    (raw / "t10k-labels-idx1-ubyte").write_bytes(b"garbage")
    monkeypatch.setenv("VAE_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.chdir(tmp_path)
    st.cache_resource.clear()
    try:
        at = session()
        at.run()
        at.switch_page("pages/elbo.py").run()
        assert not at.exception
        notice = " ".join(w.value for w in at.sidebar.warning)
        assert "shipped with the project" in notice and "VAE_DATA_DIR" in notice
        assert any(m.label == "KL term" for m in at.metric)  # the page works on the shipped sample
        from vae.data import load_dataset

        dataset = load_dataset("mnist", "test", download=False)
        assert "truncated or corrupt" in dataset.notice  # and the notice says what was wrong
    finally:
        st.cache_resource.clear()
