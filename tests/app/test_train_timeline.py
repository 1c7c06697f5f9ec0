"""Train live in slow motion: one step shown before and after, the run's timeline scrubbed and replayed, and a link
that opens a run recomputed to a step."""
import time

import numpy as np
import pytest

from tests.support.app import PAGES, metric, open_page
from vae import timeline as tl
from vae.train import probe

TRAIN = PAGES[3]


@pytest.fixture(autouse=True)
def data(mnist_dir):
    return mnist_dir


def ok(at):  # (`sessions`, the Train page's AppTests whose runs are stopped afterwards: tests/app/conftest.py)
    assert not at.exception, [e.value for e in at.exception]
    return at


def created(sessions, query=None):
    at = open_page(TRAIN, query=query)
    sessions.append(at)
    if query is None:
        at.radio[0].set_value("2,000")
        at.button(key="train_create").click().run()
    return ok(at)


def step_of(at) -> int:
    return int(metric(at, "Step").replace(",", ""))


def shown_at(at) -> str:
    return next(c.value for c in at.caption if c.value.startswith("Latent means"))


def test_a_step_in_slow_motion_shows_its_minibatch_and_its_terms_before_and_after(sessions):
    at = created(sessions)
    trainer = at.session_state["live_run"].trainer
    trainer.step(steps=20)
    at.run()
    at.button(key="live_step").click().run()
    ok(at)
    assert step_of(at) == 21
    table = at.table[0].value
    assert list(table.iloc[:, 0]) == ["ELBO", "reconstruction E_q[log p(x|z)]", "KL(q ‖ p(z))"]
    detail = at.session_state["live_step_detail"]
    # the table's figures are the step's own before and after, and ELBO = reconstruction − KL on both sides
    for column in ("before", "after"):
        elbo, recon, kl = (float(v) for v in table[column])
        assert elbo == pytest.approx(recon - kl, abs=0.02)
        assert elbo == pytest.approx(detail[column]["elbo"], abs=0.006)
    assert float(table["change"][0]) == pytest.approx(detail["after"]["elbo"] - detail["before"]["elbo"], abs=0.011)
    assert "step 20 → 21" in at.markdown[-1].value or any("step 20 → 21" in m.value for m in at.markdown)
    assert len(detail["images"]) == 16 and detail["recon_before"].shape == detail["recon_after"].shape == (16, 28, 28)
    # pressing Play puts the slow motion away
    at.segmented_control(key="live_mode").set_value("Play").run()
    assert not at.table
    at.segmented_control(key="live_mode").set_value("Pause").run()


def test_the_timeline_scrubs_to_any_snapshot_on_fixed_axes_and_replays(sessions):
    at = created(sessions)
    trainer = at.session_state["live_run"].trainer
    trainer.step(steps=60)
    ok(at.run())
    line = trainer.timeline()
    scrubber = at.select_slider(key="train_at")
    assert scrubber.options == [f"step {s:,}" for s in line.steps] + (["step 60"] if line.steps[-1] < 60 else [])
    assert scrubber.value == 60 and "at step 60 (now)" in shown_at(at)
    scrubber.set_value(5).run()
    ok(at)
    assert "at step 5 of 60" in shown_at(at)
    # the snapshot quotes the training means recorded at its step (the run's history, asked of the process)
    record = next(h for h in trainer.snapshot(probe=False)["history"] if h["step"] == 5)
    assert any(c.value.startswith(f"The training means at step 5: ELBO {record['elbo']:.1f} nats, KL "
                                  f"{record['kl']:.2f} nats") for c in at.caption), [c.value for c in at.caption]
    # the address holds the timeline's step; the run's length goes into "Share this view" only (a reload must
    # reattach to the run, not recompute it: the page's first run, before the tab's token is back, has none)
    assert at.query_params["train_at"] == "5" and "train_steps" not in at.query_params
    shared = [c.value for c in at.get("code") if "/train?" in c.value]
    assert shared and "train_steps=60" in shared[0] and "train_at=5" in shared[0], shared
    # the replay starts from the scrubber's step and moves on by itself, one snapshot a run of its fragment, a
    # progress bar in the scrubber's place (a slider moved by the server sent its stale value back)
    at.button(key="live_replay").click().run()
    ok(at)
    assert at.session_state["live_replaying"] and at.session_state["live_playhead"] == 5
    assert not [s for s in at.select_slider if s.key == "train_at"]
    seen = []
    end = time.monotonic() + 60
    while at.session_state["live_replaying"] and time.monotonic() < end:
        seen.append(at.session_state["live_playhead"])
        time.sleep(0.6)
        ok(at.run())
    assert len(set(seen)) >= 3 and seen == sorted(seen) and not at.session_state["live_replaying"]
    assert at.session_state["train_at"] == 60 and "at step 60 (now)" in shown_at(at)
    # from the end, Replay starts again from step 0, and shows it (the button once set the scrubber's key after the
    # scrubber was drawn: StreamlitWidgetAlreadyInstantiatedError; then step 0 was skipped)
    at.button(key="live_replay").click().run()
    ok(at)
    assert at.session_state["live_playhead"] == 0 and "at step 0 of 60" in shown_at(at)
    at.button(key="live_replay_pause").click().run()
    ok(at)
    assert not at.session_state["live_replaying"]
    assert at.select_slider(key="train_at").value == at.session_state["live_playhead"] <= 1  # paused where it was


def test_a_link_opens_a_run_recomputed_to_its_step_paused_at_its_timeline_step(sessions):
    query = {"train_size": "2,000", "train_seed": "4", "train_latent": "2", "train_steps": "150", "train_at": "40"}
    at = created(sessions, query=query)
    run = at.session_state["live_run"]
    assert step_of(at) == 150 and not at.session_state["live_playing"]
    assert at.session_state["train_at"] == 40 and "at step 40 of 150" in shown_at(at)
    line = run.trainer.timeline()
    assert 40 in line.steps  # a due step: the snapshot at 40 is its own
    # the same recipe trained here, in this process, gives the snapshot at step 40 the link shows
    from vae import VAEConfig
    from vae.data import load_dataset
    from vae.train import Trainer

    config = VAEConfig.from_dict(run.trainer.config.to_dict())
    assert config.seed == 4 and config.latent_dim == 2
    from tests.support import ROOT  # noqa: F401
    import os

    train = load_dataset("mnist", "train", os.environ["VAE_DATA_DIR"]).subset(2000)
    here = Trainer(config, train.images.flatten(1), "cpu")
    here.run(40)
    test = load_dataset("mnist", "test", os.environ["VAE_DATA_DIR"]).subset(1000).to_float()
    mu = here.model.encode(test)[0].detach().numpy()
    assert np.abs(line.at(40).coords.astype(np.float32) - mu).max() < 0.02
    picture = tl.unpng(line.at(40).map_png)
    expected = tl.decoder_map(here.model, [0, 1], line.at(40).frame)
    assert np.abs(picture / 255.0 - expected).max() < 0.02
    assert probe  # (imported for the reader: before/after use vae.train.probe)


def test_the_latent_pad_follows_the_live_decoder_step_by_step(sessions):
    """The pad on Train live: its weights are the run's decoder at the step it is drawn at, sent without the browser
    asking, and a new step sends new ones."""
    import base64
    import json

    at = created(sessions)
    trainer = at.session_state["live_run"].trainer
    trainer.step(steps=10)
    at.toggle(key="live_pad_on").set_value(True).run()
    ok(at)

    def sent():
        pad = next(e.proto for e in at.get("bidi_component") if e.proto.component_name.endswith("vae_latent_pad"))
        return json.loads(json.loads(pad.json)["json"])

    first = sent()
    assert first["model"].endswith("-10") and first["payload"] is not None
    layer = first["payload"]["layers"][-1]
    weight = np.frombuffer(base64.b64decode(layer["weight"]), "<f4").reshape(layer["outputs"], layer["inputs"])
    np.testing.assert_array_equal(weight, trainer.decoder()["layers"][-1][0])
    at.button(key="live_step").click().run()
    second = sent()
    assert second["model"].endswith("-11") and second["payload"] is not None
    assert second["family"] == first["family"]


def test_a_saved_model_keeps_its_timeline_and_explore_replays_it(sessions, tmp_path):
    """Save on Train live writes the run's timeline into the checkpoint; Explore shows it, scrubbed to any snapshot;
    a checkpoint without one (every shipped model) shows no timeline."""
    from classroom import db, models as saved
    from vae import checkpoint

    at = created(sessions)
    run = at.session_state["live_run"]
    run.trainer.step(steps=30)
    at.run()
    at.text_input(key="live_save_name").set_value("with-timeline")
    at.form_submit_button[-1].click().run()
    ok(at)
    assert any("Saved as with-timeline" in s.value for s in at.success)
    kept = saved.find(db.engine(), "with-timeline")
    line = run.trainer.timeline()
    back = tl.Timeline.from_extras(checkpoint.from_bytes(saved.data(db.engine(), kept.id)).extras)
    assert back.steps == line.steps and back.snapshots[-1].map_png == line.snapshots[-1].map_png
    explore = open_page(PAGES[0], model="with-timeline")
    ok(explore)
    assert any("training timeline" in e.label for e in explore.expander)
    scrubber = explore.select_slider(key="explore_timeline_at")
    assert scrubber.value == line.steps[-1]
    scrubber.set_value(line.steps[3]).run()
    ok(explore)
    assert any(f"at step {line.steps[3]:,} of {line.steps[-1]:,}" in c.value for c in explore.caption)
    shipped = open_page(PAGES[0])
    ok(shipped)
    assert not any("training timeline" in e.label for e in shipped.expander)

