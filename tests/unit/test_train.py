import math

import pytest
import torch

from vae import VAEConfig
from vae.config import ConfigError
from vae.data import load_sample
from vae.evaluate import evaluate
from vae.train import Trainer, TrainMetrics

SMALL = VAEConfig(latent_dim=2, hidden=(64,), batch_size=64, seed=3)


@pytest.fixture(scope="module")
def digits():
    return load_sample().to_float()


def weights(trainer):
    return torch.cat([p.detach().flatten() for p in trainer.model.parameters()])


def test_same_seed_same_result_and_slicing_does_not_matter(digits):
    a, b, c = (Trainer(SMALL, digits, "cpu") for _ in range(3))
    a.run(7)
    b.run(7)
    c.run(3), c.run(4)
    assert torch.equal(weights(a), weights(b))
    assert torch.equal(weights(a), weights(c))
    d = Trainer(SMALL.replace(seed=4), digits, "cpu")
    d.run(7)
    assert not torch.equal(weights(a), weights(d))


def test_epochs_wrap_around_and_count(digits):
    trainer = Trainer(SMALL, digits[:200], "cpu")
    assert trainer.steps_per_epoch == 4  # 64 + 64 + 64 + 8
    m = trainer.run_epoch()
    assert (m.steps, m.examples, m.step, m.epoch) == (4, 200, 4, 1.0)
    m = trainer.run(6)
    assert m.examples == 64 * 3 + 8 + 64 * 2 and trainer.step == 10


def test_settings_change_between_steps_without_a_reset(digits):
    trainer = Trainer(SMALL, digits, "cpu")
    trainer.run(5)
    before = weights(trainer)
    trainer.update(lr=1e-4, beta=0.5, sigma_dec=0.1)
    assert trainer.optimizer.param_groups[0]["lr"] == 1e-4
    assert trainer.model.config.sigma_dec == 0.1 and trainer.config.beta == 0.5
    state = trainer.optimizer.state[next(trainer.model.parameters())]
    assert int(state["step"]) == 5  # Adam's moments carried over
    trainer.run(1)
    assert int(state["step"]) == 6 and trainer.step == 6
    assert (weights(trainer) - before).abs().max() < 1e-3  # a small lr step from where it was, not a fresh model
    with pytest.raises(ConfigError, match="sigma_dec"):
        trainer.update(sigma_dec=0.0)
    with pytest.raises(ConfigError, match="latent_dim cannot change during training"):
        trainer.update(latent_dim=5)
    assert trainer.config.sigma_dec == 0.1 and trainer.config.latent_dim == 2


def test_the_reported_loss_follows_beta_and_sigma(digits):
    trainer = Trainer(SMALL, digits, "cpu")
    m = trainer.run(3)
    assert m.loss == pytest.approx(m.kl - m.reconstruction, rel=1e-5)
    assert m.elbo == pytest.approx(m.reconstruction - m.kl, rel=1e-5)
    assert sum(m.kl_per_dim) == pytest.approx(m.kl, rel=1e-5)
    trainer.update(beta=0.0)
    m = trainer.run(3)
    assert m.loss == pytest.approx(-m.reconstruction, rel=1e-5)


def test_training_improves_the_held_out_elbo(digits):
    train, test = digits[:1500], digits[1500:]
    trainer = Trainer(SMALL, train, "cpu")
    before = evaluate(trainer.model, test, iw_samples=1)["elbo"]
    for _ in range(3):
        trainer.run_epoch()
    after = evaluate(trainer.model, test, iw_samples=1)["elbo"]
    assert after > before + 100, (before, after)


@pytest.mark.parametrize("changes", [{"likelihood": "bernoulli", "binarize": True}, {"mc_samples": 3},
                                     {"latent_dim": 16, "hidden": (128, 64)}])
def test_variants_train_and_stay_finite(digits, changes):
    trainer = Trainer(SMALL.replace(**changes), digits, "cpu")
    m = trainer.run(5)
    assert all(math.isfinite(v) for v in (m.loss, m.elbo, m.kl)) and len(m.kl_per_dim) == trainer.config.latent_dim
    assert m.steps_per_s > 0


def test_metrics_combine_weights_by_examples():
    a = TrainMetrics(1, 0.5, 1, 100, 1.0, -1.0, -0.5, 0.5, [0.5], 1.0)
    b = TrainMetrics(2, 1.0, 1, 300, 3.0, -3.0, -2.5, 0.5, [0.5], 1.0)
    m = TrainMetrics.combine([a, b])
    assert (m.examples, m.steps, m.step, m.loss, m.seconds) == (400, 2, 2, 2.5, 2.0)
    assert m.to_dict()["steps_per_s"] == 1.0 and m.active_dims() == 1


def test_bad_data_is_refused():
    with pytest.raises(ValueError, match=r"\[N, 784\]"):
        Trainer(SMALL, torch.zeros(10, 100), "cpu")
    with pytest.raises(ValueError, match="non-empty"):
        Trainer(SMALL, torch.zeros(0, 784), "cpu")


def test_cosine_schedule_and_kl_warmup(digits):
    config = SMALL.replace(epochs=2, lr=2e-3, beta=1.0, lr_schedule="cosine", warmup_epochs=1)
    trainer = Trainer(config, digits[:640], "cpu")  # 10 steps per epoch, T = 20
    assert trainer.scheduled(0) == pytest.approx((2e-3, 0.0))
    assert trainer.scheduled(5) == pytest.approx((2e-3 * 0.5 * (1 + math.cos(math.pi / 4)), 0.5))
    assert trainer.scheduled(10) == pytest.approx((1e-3, 1.0))
    assert trainer.scheduled(20) == pytest.approx((0.0, 1.0))
    m = trainer.run(1)  # the first step runs at β = 0: the loss is the reconstruction term alone
    assert m.loss == pytest.approx(-m.reconstruction, rel=1e-6)
    trainer.run(9)
    assert trainer.optimizer.param_groups[0]["lr"] == pytest.approx(trainer.scheduled(9)[0])
    m = trainer.run(1)  # warm-up over: the full β-weighted loss
    assert m.loss == pytest.approx(m.kl - m.reconstruction, rel=1e-6)


def test_the_cosine_schedule_ends_at_its_last_epoch_and_the_cli_says_so(digits, tmp_path, mnist_dir):
    """Past `epochs` the cosine schedule left lr at 0 for every further step, silently."""
    from vae.cli import main

    trainer = Trainer(SMALL.replace(epochs=2, lr_schedule="cosine"), digits[:640], "cpu")  # T = 20
    assert trainer.scheduled(25)[0] == 0.0
    out = tmp_path / "c.safetensors"
    base = ["train", "--data-dir", str(mnist_dir), "--limit", "256", "--batch-size", "128", "--hidden", "16",
            "--epochs", "2", "--lr-schedule", "cosine", "--eval-iw-samples", "0", "--out", str(out)]
    assert main(base + ["--steps", "5"]) == 2 and not out.exists()  # 2 epochs of 2 steps: T = 4
    assert main(base + ["--steps", "4"]) == 0 and out.exists()
