"""A run's timeline: which steps it keeps, the decoder's map against decode(z), a checkpoint's copy, and the
training process's snapshots and slow-motion step."""
import copy
import math

import numpy as np
import pytest
import torch

from vae import VAEConfig, checkpoint, timeline as tl
from vae.model import VAE
from vae.train import Trainer, probe

CONFIG = VAEConfig(latent_dim=2, hidden=(32,), batch_size=64, seed=3)


def fed(steps):
    """A timeline given a snapshot at each of `steps` (tiny stand-ins), in order."""
    line = tl.Timeline(np.zeros(4, np.uint8))
    for s in steps:
        line.add(tl.Snapshot(s, 0.0, np.zeros((4, 2), np.float16), [0, 1], 3.0, b"x"))
    return line


def due_steps(until):
    steps, s = [], 0
    while s <= until:
        steps.append(s)
        s = tl.next_due(s)
    return steps


def test_snapshots_are_dense_early_bounded_and_spread_evenly_on_a_log_scale():
    assert due_steps(11) == list(range(12))  # every one of the first steps, where the picture changes fastest
    steps = due_steps(200_000)
    assert len(steps) > tl.MAX_SNAPSHOTS
    line = fed(steps)
    kept = line.steps
    assert len(kept) == tl.MAX_SNAPSHOTS and kept[0] == 0 and kept[-1] == steps[-1]
    assert kept == sorted(kept) and set(kept) <= set(steps)
    gaps = np.diff(np.log1p([s for s in kept if s >= 10]))  # (below 10 every step is kept: log gaps are wider)
    assert gaps.max() < 2.5 * gaps.min(), "thinning left a hole in the timeline"
    assert sum(s <= 20 for s in kept) >= 8  # early steps stay dense
    # which steps are kept depends on the step count alone: the same run recomputed keeps the same ones
    assert fed(steps).steps == kept


def test_at_gives_the_last_snapshot_at_or_before_a_step():
    line = fed([0, 1, 2, 5, 9])
    assert [line.at(s).step for s in (0, 1, 4, 5, 8, 9, 1000)] == [0, 1, 2, 5, 5, 9, 9]
    with pytest.raises(LookupError):
        tl.Timeline(np.zeros(1, np.uint8)).at(3)


def test_the_frame_holds_99_percent_of_the_points_and_the_replay_the_settled_runs_widest():
    rng = np.random.default_rng(0)
    wide = rng.normal(0, 2.0, (1000, 2))
    frame = tl.frame_for(wide)
    assert frame == math.ceil(np.quantile(np.abs(wide), 0.99)) and np.mean(np.abs(wide) <= frame) >= 0.99
    assert tl.frame_for(wide * 0.01) == tl.MIN_FRAME  # at least the prior's bulk
    line = fed([0, 1, 2, 20, 40, 100])
    line.snapshots[4].frame = 7.0
    assert line.frame == 7.0
    line.snapshots[4].frame, line.snapshots[2].frame = 3.0, 12.0  # an early flight of the codes, before step 10
    assert line.frame == 3.0


@pytest.mark.parametrize("dims,latent_dim", [((0, 1), 2), ((1, 3), 4)])
def test_the_map_is_decode_z_at_its_grid_points(dims, latent_dim):
    """Tile (i, j), counted from the top left, is decode(z) with z_a = xs[j] and z_b = xs[n-1-i] (up is +z_b), every
    other dimension 0: computed here with the model itself, tile by tile."""
    torch.manual_seed(0)
    model = VAE(VAEConfig(latent_dim=latent_dim, hidden=(32,)))
    frame, n = 2.0, 5
    picture = tl.unpng(tl.png(tl.decoder_map(model, list(dims), frame, n)))
    xs = np.linspace(-frame, frame, n)
    h, w = model.config.image_shape[-2:]
    assert picture.shape == (n * h, n * w)
    for i in range(n):
        for j in range(n):
            z = torch.zeros(1, latent_dim)
            z[0, dims[0]], z[0, dims[1]] = xs[j], xs[n - 1 - i]
            with torch.no_grad():
                expected = model.decode(z).reshape(h, w).numpy()
            tile = picture[i * h:(i + 1) * h, j * w:(j + 1) * w] / 255.0
            assert np.abs(tile - expected).max() <= 0.5 / 255 + 1e-6, (i, j)


def test_a_checkpoint_keeps_the_timeline_within_its_size_bound(tmp_path):
    torch.manual_seed(0)
    model = VAE(CONFIG)
    rng = np.random.default_rng(1)
    line = tl.Timeline(rng.integers(0, 10, 50).astype(np.uint8))
    for step in due_steps(60):
        line.add(tl.Snapshot(step, step / 10, rng.normal(size=(50, 2)).astype(np.float16), [0, 1], 3.0 + step // 30,
                             tl.png(rng.random((60, 60))), -200.0 + step, None))
    path = checkpoint.save(tmp_path / "m.safetensors", model, extras=line.to_extras())
    back = tl.Timeline.from_extras(checkpoint.load(path).extras)
    assert back.steps == line.steps and np.array_equal(back.labels, line.labels)
    for a, b in zip(back.snapshots, line.snapshots):
        fields = ("epoch", "dims", "frame", "map_png", "elbo", "kl")
        assert [getattr(a, f) for f in fields] == [getattr(b, f) for f in fields]
        assert np.array_equal(a.coords, b.coords)
    # a bound smaller than its maps thins it, keeping its first and last steps
    small = tl.Timeline.from_extras(checkpoint.from_bytes(checkpoint.to_bytes(
        model, extras=line.to_extras(max_bytes=line.nbytes() // 4))).extras)
    assert 2 <= len(small.steps) < len(line.steps) and small.steps[0] == 0 and small.steps[-1] == line.steps[-1]
    assert sum(len(s.map_png) for s in small.snapshots) <= line.nbytes() // 4
    # a checkpoint saved before timelines existed still loads, without one
    assert tl.Timeline.from_extras(checkpoint.from_bytes(checkpoint.to_bytes(model)).extras) is None


@pytest.fixture(scope="module")
def data(mnist_dir):
    from vae.data import load_dataset

    return load_dataset("mnist", "train", mnist_dir).subset(2000), load_dataset("mnist", "test", mnist_dir)


def session(data):
    from vae.live.child import ChildSession

    return ChildSession(CONFIG.to_dict(), data[0], data[1], "cpu")


def test_the_training_process_snapshots_at_the_due_steps_and_trains_as_the_trainer_does(data):
    child = session(data)
    child.step(seconds=0, steps=41)
    assert child.timeline.steps == due_steps(41)  # 0, 1, …, 11, 13, …, 37, 41
    here = Trainer(CONFIG, data[0].images.flatten(1), "cpu")
    here.run(41)
    for name, tensor in here.model.state_dict().items():  # the snapshots changed nothing the run does
        torch.testing.assert_close(child.trainer.model.state_dict()[name], tensor, rtol=0, atol=1e-6)
    last = child.timeline.snapshots[-1]
    with torch.no_grad():
        mu = here.model.encode(child.probe_images)[0].numpy()
    assert last.dims == [0, 1] and np.abs(last.coords - mu).max() < 1e-2  # float16


def test_slow_motion_shows_the_minibatch_the_step_trained_on_and_its_terms_before_and_after(data):
    child = session(data)
    child.step(seconds=0, steps=5)
    before_model = copy.deepcopy(child.trainer.model)
    here = Trainer(CONFIG, data[0].images.flatten(1), "cpu")
    here.run(5)
    batch = here.upcoming_batch()  # what the in-process trainer trains on next
    shown = child.step_once()
    assert shown["step"] == 5 and child.trainer.step == 6 and shown["batch_size"] == CONFIG.batch_size
    np.testing.assert_allclose(shown["images"], batch[:16].reshape(-1, 28, 28).numpy())
    expected_before = probe(before_model, batch, seed=5)
    expected_after = probe(child.trainer.model, batch, seed=5)
    for key in ("elbo", "reconstruction", "kl"):
        assert shown["before"][key] == pytest.approx(expected_before[key], rel=1e-5)
        assert shown["after"][key] == pytest.approx(expected_after[key], rel=1e-5)
    assert shown["after"]["elbo"] != shown["before"]["elbo"]
    here.run(1)
    for name, tensor in here.model.state_dict().items():  # and the step is the run's own next step
        torch.testing.assert_close(child.trainer.model.state_dict()[name], tensor, rtol=0, atol=1e-6)
