"""The command line as a user runs it: `python -m vae` in real subprocesses on the real data (training, the real test
split's evaluation, one error end to end); what follows a training run (evaluate, info) and most error messages
through its main() in this process, which is what `python -m vae` runs (`sys.exit(main())`) without importing torch
again (~2 core-s a process)."""
import json
import math
import os
import subprocess
import sys

import pytest
from safetensors.torch import load_file

from tests.support import ROOT
from tests.support.cli import vae, vae_here
from vae import checkpoint


@pytest.mark.slow
def test_train_one_epoch_then_evaluate_on_the_real_test_split(tmp_path, mnist_dir):
    out = tmp_path / "m.safetensors"
    run = vae("train", "--data-dir", mnist_dir, "--epochs", 1, "--latent-dim", 2, "--sigma-dec", 0.3,
              "--out", out, "--eval-iw-samples", 0)
    assert "epoch 1/1" in run.stdout and "steps/s" in run.stdout and "on 60,000 examples" in run.stdout
    result = json.loads(vae("evaluate", out, "--data-dir", mnist_dir, "--iw-samples", 5, "--json").stdout)
    for key in ("elbo", "reconstruction", "kl", "log_px_iwae", "bits_per_dim_8bit"):
        assert isinstance(result[key], float)
    assert result["n"] == 10_000 and result["split"] == "test"
    assert result["elbo"] <= result["log_px_iwae"]
    assert result["reconstruction"] == pytest.approx(result["squared_error"] + result["constant"])
    assert result["elbo"] == pytest.approx(result["reconstruction"] - result["kl"])
    # 8-bit pixels: (−log p(x) + D ln 256) / (D ln 2) = 8 − log p(x) / (D ln 2); the model beats 8 bits a pixel
    assert result["bits_per_dim_8bit"] == pytest.approx(8 - result["log_px_iwae"] / (784 * 0.6931471805599453))
    assert "bits_per_dim_binary" not in result and "bits_per_dim" not in result
    assert result["elbo"] > 0  # a trained σ=0.3 model beats the density of N(0.5, σ²I)... by a wide margin
    ckpt = checkpoint.load(out)
    assert ckpt.metrics["train"]["steps"] == 469
    assert ckpt.meta["command"].startswith("python -m vae train --dataset mnist --latent-dim 2")
    assert "--epochs 1 " in ckpt.meta["command"]


@pytest.mark.slow
def test_bernoulli_model_with_limit_and_stored_test_figures(tmp_path, mnist_dir, capsys):
    out = tmp_path / "b.safetensors"
    vae("train", "--data-dir", mnist_dir, "--epochs", 2, "--limit", 1000, "--likelihood", "bernoulli", "--binarize",
        "--latent-dim", 8, "--hidden", "128", "--seed", 5, "--out", out, "--eval-iw-samples", 5)
    ckpt = checkpoint.load(out)
    assert ckpt.config.likelihood == "bernoulli" and ckpt.config.binarize and ckpt.config.hidden == (128,)
    assert ckpt.metrics["test"]["n"] == 10_000 and ckpt.metrics["test"]["elbo"] <= ckpt.metrics["test"]["log_px_iwae"]
    code, text, err = vae_here(capsys, "evaluate", out, "--data-dir", mnist_dir, "--limit", 200, "--iw-samples", 5)
    assert code == 0, err
    assert "log_px_iwae" in text and "n = 200" in text
    assert "bits_per_dim_binary" in text and "bits/dim (binary pixels), lower is better" in text
    test = ckpt.metrics["test"]
    assert test["bits_per_dim_binary"] == pytest.approx(-test["log_px_iwae"] / (784 * math.log(2)))
    assert "bits_per_dim_8bit" not in test
    code, text, _ = vae_here(capsys, "info", out)
    info = json.loads(text)
    assert info["config"]["latent_dim"] == 8 and "--binarize" in info["meta"]["command"]


@pytest.mark.slow
def test_two_process_ddp_takes_the_same_steps_as_one_process(tmp_path, mnist_dir):
    common = ["--data-dir", mnist_dir, "--limit", 640, "--epochs", 2, "--batch-size", 64, "--hidden", 64,
              "--eval-iw-samples", 0, "--device", "cpu"]
    vae("train", *common, "--out", tmp_path / "one.safetensors")
    ddp = vae("--standalone", "--nproc_per_node=2", "-m", "vae", "train", *common, "--out", tmp_path / "ddp.safetensors",
              launcher=("-m", "torch.distributed.run"))
    assert "2 processes" in ddp.stdout and ddp.stdout.count("epoch 2/2") == 1  # only rank 0 speaks
    one, two = load_file(tmp_path / "one.safetensors"), load_file(tmp_path / "ddp.safetensors")
    assert max((one[k] - two[k]).abs().max().item() for k in one) < 1e-5
    assert checkpoint.load(tmp_path / "ddp.safetensors").meta["world_size"] == 2


@pytest.mark.slow
def test_errors_are_messages_not_tracebacks(tmp_path, capsys):
    """One error through `python -m vae` itself, the others through its main() here (the same exit status and words)."""
    missing = vae("train", "--data-dir", tmp_path / "nowhere", "--epochs", 1, "--out", tmp_path / "x.safetensors",
                  check=False)
    assert missing.returncode == 2 and "error:" in missing.stderr and "no such folder" in missing.stderr
    assert "Traceback" not in missing.stderr
    bad = tmp_path / "bad.safetensors"
    bad.write_bytes(b"\x80\x04K\x01.")
    code, _, err = vae_here(capsys, "evaluate", bad)
    assert code == 2 and "pickle" in err
    code, _, err = vae_here(capsys, "evaluate", tmp_path)  # a folder: was IsADirectoryError's traceback
    assert code == 2 and "is a folder" in err and len(err.strip().splitlines()) == 1, err
    code, _, err = vae_here(capsys, "train", "--sigma-dec", "-1", "--epochs", 1, "--out", tmp_path / "y.safetensors")
    assert code == 2 and "sigma_dec" in err
    ok = tmp_path / "ok.safetensors"
    code, _, err = vae_here(capsys, "train", "--epochs", 1, "--limit", 100, "--hidden", 16, "--out", ok,
                            "--eval-iw-samples", 0, "--no-download")
    assert code == 0, err
    code, _, err = vae_here(capsys, "evaluate", ok, "--sigma-dec", "0", "--no-download")
    assert code == 2 and "sigma_dec" in err


@pytest.mark.slow
def test_without_data_the_shipped_sample_is_used_with_a_notice(tmp_path):
    out = tmp_path / "s.safetensors"
    env_free = {k: v for k, v in os.environ.items() if k != "VAE_DATA_DIR"}
    result = subprocess.run([sys.executable, "-m", "vae", "train", "--epochs", "1", "--hidden", "32", "--out", str(out),
                             "--eval-iw-samples", "0", "--no-download"], capture_output=True, text=True, cwd=tmp_path,
                            env=dict(env_free, PYTHONPATH=str(ROOT)), timeout=300)
    assert result.returncode == 0, result.stderr
    assert "note:" in result.stderr and "2,000 real test images" in result.stderr
    assert checkpoint.load(out).meta["data_source"] == "shipped sample"


@pytest.mark.slow
def test_evaluate_save_stores_the_figures_in_the_checkpoint(tmp_path, mnist_dir, capsys):
    out = tmp_path / "e.safetensors"
    vae("train", "--data-dir", mnist_dir, "--epochs", 1, "--limit", 500, "--latent-dim", 2, "--hidden", 32,
        "--out", out, "--eval-iw-samples", 0)
    code, _, err = vae_here(capsys, "evaluate", out, "--data-dir", mnist_dir, "--limit", 10, "--save")
    assert code == 2 and "whole test split" in err
    code, _, err = vae_here(capsys, "evaluate", out, "--data-dir", mnist_dir, "--iw-samples", 3, "--save",
                            "--save-test-latents")
    assert code == 0, err
    ckpt = checkpoint.load(out)
    assert ckpt.metrics["test"]["iw_samples"] == 3 and ckpt.metrics["test"]["n"] == 10_000
    assert ckpt.meta["evaluate_command"] == f"python -m vae evaluate {out} --iw-samples 3 --seed 0 --save --save-test-latents"
    assert ckpt.meta["command"].startswith("python -m vae train")  # the training command is kept
    assert ckpt.extras["test_mu"].shape == (10_000, 2) and ckpt.extras["test_labels"].shape == (10_000,)
    assert "test_tsne" not in ckpt.extras  # 2-D: the scatter is z itself (a 3-D model's t-SNE: tests/unit/test_latent.py)


def test_every_config_field_is_a_flag_and_a_recorded_command_parses_back_to_its_config():
    """The flags are made from VAEConfig's fields (vae.recipe) and the commands a checkpoint records are written from
    the same list: each parses back, through the CLI's own parser, to the config it was written from."""
    import dataclasses
    import shlex

    from vae import VAEConfig, recipe
    from vae.cli import _config, build_parser

    config = VAEConfig(dataset="fashion-mnist", latent_dim=5, hidden=(64, 32), likelihood="bernoulli", binarize=True,
                       sigma_dec=0.2, beta=2.5, lr=3e-4, batch_size=64, epochs=3, seed=9, mc_samples=2,
                       lr_schedule="cosine", warmup_epochs=0.5)
    assert {f.name for f in dataclasses.fields(VAEConfig)} - set(recipe.FIELDS) == {"image_shape"}
    for name in recipe.FIELDS:
        assert getattr(config, name) != getattr(VAEConfig(), name), name  # every field away from its default

    command = recipe.train_command(config, limit=500, steps=12)
    args = build_parser().parse_args(shlex.split(command)[3:] + ["--out", "x.safetensors"])
    assert _config(args, sigma_dec=args.sigma_dec, beta=args.beta) == config
    assert (args.limit, args.steps, args.eval_iw_samples) == (500, 12, 10)

    command = recipe.sweep_command(config, "beta", [0.5, 2.0], "out", "tiny", limit=500, save_test_latents=True)
    args = build_parser().parse_args(shlex.split(command)[3:])
    assert args.beta == [0.5, 2.0] and args.sigma_dec == [0.2] and args.prefix == "tiny" and args.save_test_latents
    assert _config(args, sigma_dec=0.2, beta=2.0) == config.replace(beta=2.0)
