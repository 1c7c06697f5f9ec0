"""`python -m vae sweep` on a small subset, its sweep.json read back, and the rate and distortion checked."""
import json
from pathlib import Path

import pytest
import torch

from tests.support.cli import vae, vae_here
from vae import checkpoint
from vae.sweep import RESULTS_FILE, collapse_value, load_results


@pytest.fixture(scope="module")
def sweep_dir(tmp_path_factory, mnist_dir):
    out = tmp_path_factory.mktemp("sweep")
    run = vae("sweep", "--data-dir", mnist_dir, "--out-dir", out, "--prefix", "tiny", "--limit", 600, "--epochs", 2,
              "--latent-dim", 4, "--hidden", 32, "--sigma-dec", "0.1,5", "--eval-iw-samples", 2, "--device", "cpu")
    assert "sweep over sigma_dec: 2 models" in run.stdout
    return out


def test_the_sweep_writes_a_checkpoint_per_value_and_its_results(sweep_dir):
    results = load_results(sweep_dir)
    assert results["parameter"] == "sigma_dec"
    assert [p["value"] for p in results["points"]] == [0.1, 5.0]
    assert [p["name"] for p in results["points"]] == ["tiny-sigma0.1", "tiny-sigma5"]
    assert results["command"].startswith(f"python -m vae sweep --out-dir {sweep_dir} --prefix tiny")
    assert "--sigma-dec 0.1,5" in results["command"] and "--beta 1" in results["command"]
    assert "--limit 600" in results["command"]
    for point in results["points"]:
        ckpt = checkpoint.load(sweep_dir / f"{point['name']}.safetensors")
        assert ckpt.config.sigma_dec == point["value"] and ckpt.config.latent_dim == 4
        assert ckpt.meta["sweep"] == {"parameter": "sigma_dec", "value": point["value"]}
        assert point["rate"] == pytest.approx(ckpt.metrics["test"]["kl"])
        assert point["active_dims"] == sum(k > 0.01 for k in point["kl_per_dim"])
    low, high = results["points"]
    assert low["rate"] > high["rate"]  # a larger σ_dec buys a cheaper code…
    assert low["distortion"] < high["distortion"]  # …with worse reconstructions


def test_the_recorded_rate_and_distortion_match_an_independent_computation(sweep_dir, mnist_test):
    point = load_results(sweep_dir)["points"][0]
    model = checkpoint.load(sweep_dir / f"{point['name']}.safetensors").model
    x = mnist_test.images.flatten(1).float() / 255
    with torch.no_grad():
        mu, logvar = model.encode(x)
        q = torch.distributions.Normal(mu, torch.exp(0.5 * logvar))
        rate = torch.distributions.kl_divergence(q, torch.distributions.Normal(0.0, 1.0)).sum(-1).mean()
        z = q.sample((4,))
        distortion = (x - model.decode(z)).pow(2).sum(-1).mean()
    assert point["rate"] == pytest.approx(float(rate), rel=1e-4)
    assert point["distortion"] == pytest.approx(float(distortion), rel=0.02)  # Monte-Carlo: 1 vs 4 samples of z


def test_bad_sweeps_are_refused_before_training(tmp_path, mnist_dir, capsys):
    """Through the command line's main() in this process (`python -m vae` is `sys.exit(main())`: tests/unit/test_cli)."""
    code, _, err = vae_here(capsys, "sweep", "--out-dir", tmp_path / "a", "--sigma-dec", "0.1,0.2", "--beta", "1,2")
    assert code == 2 and "not both" in err
    code, _, err = vae_here(capsys, "sweep", "--out-dir", tmp_path / "b", "--data-dir", mnist_dir,
                            "--sigma-dec", "0.1,-1")
    assert code == 2 and "sigma_dec" in err
    assert not (tmp_path / "b").exists()  # nothing trained, nothing written
    code, _, err = vae_here(capsys, "sweep", "--out-dir", tmp_path / "c", "--sigma-dec", "a,b")
    assert code == 2 and "comma-separated numbers" in err


def test_results_that_are_not_a_sweep_are_refused(tmp_path):
    (tmp_path / RESULTS_FILE).write_text("{not json")
    with pytest.raises(ValueError, match="not a readable sweep"):
        load_results(tmp_path)
    (tmp_path / RESULTS_FILE).write_text(json.dumps({"parameter": "sigma_dec", "points": [{"value": 1}]}))
    with pytest.raises(ValueError, match="lacks"):
        load_results(tmp_path)


def test_collapse_is_the_first_value_without_active_units():
    points = [{"value": v, "active_dims": a} for v, a in ((0.5, 4), (1.0, 1), (2.0, 0), (3.0, 0))]
    assert collapse_value({"points": points}) == 2.0
    assert collapse_value({"points": points[:2]}) is None


def test_the_shipped_sweep_is_reproducible_and_collapses(mnist_dir):
    from tests.support import ROOT

    folder = ROOT / "checkpoints" / "sweeps" / "mnist-16d-sigma"
    results = load_results(folder)
    assert results["command"].startswith("python -m vae sweep --out-dir checkpoints/sweeps/mnist-16d-sigma")
    values = [p["value"] for p in results["points"]]
    assert values == sorted(values) and values[0] <= 0.05 and values[-1] >= 2
    rates = [p["rate"] for p in results["points"]]
    assert rates == sorted(rates, reverse=True)  # rate falls as σ_dec grows
    assert results["points"][0]["active_dims"] == 16 and collapse_value(results) is not None
    for point in results["points"]:
        assert (folder / f"{point['name']}.safetensors").stat().st_size < 1_300_000  # with test latents and t-SNE


def test_train_evaluate_and_sweep_import_no_circle_and_count_active_units_in_one_place():
    """vae.train and vae.evaluate once took ACTIVE_THRESHOLD from vae.sweep, which imports them back: each now
    imports neither of the others, and the one count lives in vae.collapse (imported by pages without torch)."""
    import subprocess
    import sys

    code = ("import sys, importlib; m = importlib.import_module(sys.argv[1]); "
            "print(' '.join(k for k in ('vae.train', 'vae.evaluate', 'vae.sweep', 'torch') if k in sys.modules))")
    loaded = {name: subprocess.run([sys.executable, "-c", code, name], capture_output=True, text=True, check=True,
                                   cwd=Path(__file__).parents[2]).stdout.split()
              for name in ("vae.train", "vae.evaluate", "vae.collapse")}
    assert "vae.sweep" not in loaded["vae.train"] and "vae.sweep" not in loaded["vae.evaluate"], loaded
    assert "vae.train" not in loaded["vae.evaluate"] and "vae.evaluate" not in loaded["vae.train"], loaded
    assert loaded["vae.collapse"] == [], loaded  # no torch
    from vae.collapse import active_units

    assert active_units([0.5, 0.01, 0.0100001, 0.0]) == 2  # more than 0.01 nats: active
