"""The Streamlit app through AppTest: every page renders on the shipped models; the widgets do what they say."""
import math
import os
import pickle
import re
import time

import pytest
import torch
from streamlit.testing.v1 import AppTest

from tests.support import ROOT
from tests.support.app import BROWSER_KEY, NLL_MODEL, PAGES, SHIPPED, keep_model, metric, open_page, session
from vae import VAE, VAEConfig, catalog, checkpoint


@pytest.fixture(autouse=True)
def data(mnist_dir):
    return mnist_dir


def test_the_shipped_models_are_there_and_small():
    assert {"mnist-2d-sigma0.1", "mnist-2d-sigma0.3", "mnist-2d-sigma1.0", "mnist-16d-sigma0.3",
            "fashion-2d-sigma0.3", "fashion-16d-sigma0.3", NLL_MODEL} <= set(SHIPPED)
    for name in SHIPPED:
        path = ROOT / "checkpoints" / f"{name}.safetensors"
        assert path.stat().st_size <= (10_000_000 if name == NLL_MODEL else 2_000_000)
        info = catalog.read_info(path)
        assert {"test_mu", "test_labels"} <= set(info.extras)
        assert info.meta["command"].startswith("python -m vae train")
        assert "--save-test-latents" in info.meta["command"] + info.meta.get("evaluate_command", "")
    for path in (ROOT / "checkpoints" / "sweeps").glob("*/*.safetensors"):  # t-SNE at once, not after a minute
        info = catalog.read_info(path)
        assert {"test_mu", "test_labels", "test_tsne"} <= set(info.extras), path.name
        assert "--save-test-latents" in info.meta["command"]


@pytest.mark.parametrize("page", PAGES)
@pytest.mark.parametrize("model", ["mnist-2d-sigma0.3", "mnist-16d-sigma0.3", "fashion-2d-sigma0.3", NLL_MODEL])
def test_every_page_renders_without_an_exception(page, model):
    at = open_page(page, model)
    assert at.session_state["model"] == model
    assert at.header, "the page drew nothing"


def test_explore_draws_the_scatter_the_grid_and_decodes_the_sliders():
    at = open_page(PAGES[0])
    charts = at.get("plotly_chart")
    assert len(charts) == 2  # the scatter and the manifold grid
    before = at.image[-1].value
    at.slider(key="explore_z0").set_value(2.0).run()
    assert not at.exception
    assert at.image[-1].value != before  # a new decoded image
    assert "z = (2.00" in at.image[-1].captions[0]


def test_explore_with_tsne_on_the_16d_model():
    at = open_page(PAGES[0], "mnist-16d-sigma0.3")
    at.radio(key="explore_projection").set_value("tsne").run()
    assert not at.exception
    assert any("t-SNE cannot be inverted" in i.value for i in at.info)
    assert "explore_grid_n" not in [s.key for s in at.slider]  # no grid-size slider where there is no grid


def test_elbo_sigma_slider_moves_the_reconstruction_term_and_not_the_kl():
    at = open_page(PAGES[2])
    recon, kl = metric(at, "Reconstruction term (this digit)"), metric(at, "KL term")
    at.select_slider(key="elbo_sigma").set_value(1.0).run()
    assert not at.exception
    assert metric(at, "Reconstruction term (this digit)") != recon
    assert metric(at, "KL term") == kl
    assert metric(at, "equivalent β = 2σ²") == "2"
    elbo = float(metric(at, "ELBO (this digit)"))
    at.radio(key="elbo_unit").set_value("bits per dim").run()
    nats_per_bit = 784 * math.log(2)
    # 8-bit pixels' bits/dim, costs: KL / (D ln 2) with four decimals (two read 0.01), −ELBO = 8 − ELBO / (D ln 2)
    assert float(metric(at, "KL cost")) == pytest.approx(float(kl) / nats_per_bit, abs=1e-4)
    assert float(metric(at, "−ELBO, bits/dim (this digit)")) == pytest.approx(8 - elbo / nats_per_bit, abs=1e-4)
    assert len(metric(at, "KL cost").split(".")[1]) == 4


def test_interpolate_takes_indices_and_draws_both_paths():
    at = open_page(PAGES[1])
    at.number_input(key="interp_b").set_value(7).run()
    assert not at.exception
    assert [s.value for s in at.subheader][:2] == ["lerp", "slerp"]
    assert "(#7)" in at.image[0].captions[0]
    assert any("slerp's arc swings wide" in c.value for c in at.caption)  # a 2-D model: why the arc is wide
    at = open_page(PAGES[1], "mnist-16d-sigma0.3")
    assert not any("swings wide" in c.value for c in at.caption)


def step_of(at: AppTest) -> int:
    return int(metric(at, "Step").replace(",", ""))


def rerun_until(at: AppTest, condition, timeout: float = 60.0) -> AppTest:
    end = time.monotonic() + timeout
    while True:
        at.run()
        assert not at.exception, [e.value for e in at.exception]
        if condition(at) or time.monotonic() > end:
            return at
        time.sleep(0.3)


def create_and_play(sessions, seed: int = 0, lr: float = 1e-3) -> AppTest:
    at = open_page(PAGES[3])
    sessions.append(at)
    at.radio[0].set_value("2,000")
    at.number_input[-1].set_value(seed)  # the seed
    at.select_slider[0].set_value(lr)
    at.button(key="train_create").click().run()
    assert not at.exception, [e.value for e in at.exception]
    assert metric(at, "Step") == "0"
    at.segmented_control(key="live_mode").set_value("Play").run()
    rerun_until(at, lambda a: step_of(a) > 0)
    assert step_of(at) > 0
    return at


@pytest.mark.slow
def test_train_live_play_then_pause_advances_the_step_counter(sessions):
    at = create_and_play(sessions)
    first = step_of(at)
    rerun_until(at, lambda a: step_of(a) > first)
    assert step_of(at) > first  # it trains between renders
    at.segmented_control(key="live_mode").set_value("Pause").run()
    time.sleep(0.5)
    paused = step_of(at.run())
    time.sleep(1.0)
    assert step_of(at.run()) == paused  # paused: nothing moves
    # The latents (their own fragment, redrawn less often while playing) say the step they were taken at: the same.
    assert sum(f"at step {paused:,}" in c.value for c in at.caption) == 2, [c.value for c in at.caption]
    at.button(key="live_step").click().run()
    assert step_of(at.run()) > paused


def test_train_live_settings_change_without_a_reset(sessions):
    at = create_and_play(sessions)
    at.segmented_control(key="live_mode").set_value("Pause").run()
    trainer = at.session_state["live_run"].trainer
    step = trainer.snapshot(probe=False)["step"]
    at.select_slider(key="live_lr").set_value(1e-4).run()
    at.slider(key="live_beta").set_value(2.0).run()
    snap = trainer.snapshot(probe=False)
    assert snap["config"]["lr"] == 1e-4 and snap["config"]["beta"] == 2.0
    assert snap["step"] == step and at.session_state["live_run"].trainer is trainer


def test_two_sessions_train_two_independent_models(sessions):
    a, b = create_and_play(sessions, seed=1), create_and_play(sessions, seed=2)
    ta, tb = a.session_state["live_run"].trainer, b.session_state["live_run"].trainer
    assert ta.process.pid != tb.process.pid
    ta.pause(), tb.pause()
    ta.step(steps=5), tb.step(steps=5)
    assert ta.snapshot(probe=False)["history"][-1]["elbo"] != tb.snapshot(probe=False)["history"][-1]["elbo"]


def saved_checkpoint(name: str):
    """The checkpoint kept in the class store under `name` (None when there is none)."""
    from classroom import db, models

    model = models.find(db.engine(), name)
    return checkpoint.from_bytes(models.data(db.engine(), model.id)) if model else None


def test_the_scoring_k_is_the_servers_setting_where_it_is_a_whole_number(monkeypatch):
    from ui import evaluation

    monkeypatch.delenv(evaluation.K_VARIABLE, raising=False)
    assert evaluation.iw_samples() == evaluation.IW_SAMPLES == 100
    for value, k in (("5", 5), (" 12 ", 12), ("0", 100), ("-3", 100), ("many", 100), ("2.5", 100), ("", 100)):
        monkeypatch.setenv(evaluation.K_VARIABLE, value)
        assert evaluation.iw_samples() == k, value


def measured(name: str, timeout: float = 120.0):
    """Model `name`'s measurement once the server's scoring pool has finished it (classroom.scoring)."""
    from classroom import db, models, scoring

    end = time.monotonic() + timeout
    while True:
        job = scoring.job_of(db.engine(), models.find(db.engine(), name).id)
        if job.state in ("done", "failed"):
            return job
        assert time.monotonic() < end, f"{name} was not measured in {timeout} s: {job}"
        time.sleep(0.2)


@pytest.mark.slow
def test_save_answers_at_once_and_the_figures_follow(sessions, quick_scoring, monkeypatch):
    """Save scored the model (IWAE on 10,000 test images: 6.7-40 s under a class's load) before it answered. Now it
    keeps the model and says so at once, with the measurement's progress; the figures follow when measured, the same
    as vae.evaluate computes here, and the sidebar's card with them."""
    import threading

    from ui import evaluation

    release, score = threading.Event(), evaluation.score

    def held(data, on_progress=None):  # the measurement waits until the test has seen Save's answer
        assert release.wait(120)
        return score(data, on_progress)

    monkeypatch.setattr(evaluation, "score", held)
    at = create_and_play(sessions)
    at.segmented_control(key="live_mode").set_value("Pause").run()
    default = at.text_input(key="live_save_name").value
    assert re.fullmatch(r"mnist-2d-sigma0\.3-[a-z2-9]{4}", default), default  # says what it is, and is its own
    at.text_input(key="live_save_name").set_value("my-first-vae")
    at.form_submit_button[-1].click().run()
    assert not at.exception
    assert any("Saved as my-first-vae" in s.value for s in at.success)
    assert any("my-first-vae" in p.proto.text for p in at.get("progress")), "no progress shown while it is measured"
    saved = saved_checkpoint("my-first-vae")  # kept already, before its measurement
    assert "test" not in saved.metrics
    assert saved.meta["steps"] == at.session_state["live_run"].trainer.snapshot(probe=False)["step"]
    assert "my-first-vae" in at.sidebar.selectbox(key="model").options  # listed at once
    release.set()
    assert measured("my-first-vae").state == "done"
    at.run()
    from vae.data import load_dataset
    from vae.evaluate import evaluate

    saved = saved_checkpoint("my-first-vae")
    test = evaluate(saved.model, load_dataset("mnist", "test").to_float(), iw_samples=quick_scoring)
    assert saved.metrics["test"]["iw_samples"] == quick_scoring and saved.metrics["test"]["n"] == 10_000
    assert saved.metrics["test"]["elbo"] == pytest.approx(test["elbo"], rel=1e-6)
    assert saved.metrics["test"]["log_px_iwae"] == pytest.approx(test["log_px_iwae"], rel=1e-6)
    assert saved.extras["test_mu"].shape == (10_000, 2)  # the test latents come with the measurement, not Save
    assert any(f"Test ELBO {test['elbo']:.1f}" in c.value for c in at.caption)
    assert not at.get("progress")
    at = open_page(PAGES[0], "my-first-vae")
    assert at.session_state["model"] == "my-first-vae"
    assert any(c.value.startswith(f"Test ELBO {test['elbo']:.1f} · IWAE log p(x) ≥ {test['log_px_iwae']:.1f}")
               for c in at.sidebar.caption)


def test_a_server_starting_sweeps_saves_left_by_killed_processes_and_marks_models_being_measured(state_dir):
    """A server killed mid-Save left state/tmp/live-….safetensors (1.6 MB) for good. A server starting now removes
    those of processes that are gone, keeps a live one's in flight; and the Models page names the models being
    measured."""
    import socket
    import subprocess
    import sys

    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    tmp = state_dir / "tmp"
    tmp.mkdir(parents=True)
    left = tmp / f"live-{socket.gethostname()}-{dead.pid}-0123abcd.safetensors"
    in_flight = tmp / f"live-{socket.gethostname()}-{os.getppid()}-4567cdef.safetensors"
    left.write_bytes(b"x" * 1000)
    in_flight.write_bytes(b"x" * 1000)
    from classroom import db, identity, models, scoring

    models.save(db.engine(), identity.of_browser(BROWSER_KEY), "measured-elsewhere", b"not a checkpoint", "mnist",
                measure=True)
    assert scoring.claim(db.engine(), "another-server:1:1") is not None  # its measurement under way there
    at = open_page(PAGES[4])
    assert not left.exists() and in_flight.exists()
    assert any("Being measured on the test split: measured-elsewhere" in c.value for c in at.caption)


@pytest.mark.slow
def test_a_measurement_that_fails_is_said_once_and_not_retried(sessions, monkeypatch):
    from ui import evaluation

    calls = []

    def broken(data, on_progress=None):
        calls.append(1)
        raise ValueError("a bug in the scoring")

    monkeypatch.setattr(evaluation, "score", broken)
    at = create_and_play(sessions)
    at.segmented_control(key="live_mode").set_value("Pause").run()
    at.text_input(key="live_save_name").set_value("broken-save")
    at.form_submit_button[-1].click().run()
    assert not at.exception and saved_checkpoint("broken-save") is not None  # kept, whatever its measurement does
    assert measured("broken-save").state == "failed"
    at.run()
    assert not at.exception
    assert any("could not be measured" in e.value and "a bug in the scoring" in e.value for e in at.error)
    at.run()
    assert len(calls) == 1


@pytest.mark.slow
def test_stop_then_save_then_a_new_model(sessions, quick_scoring):
    at = create_and_play(sessions)
    at.button(key="live_stop").click().run()
    assert any("stopped" in i.value for i in at.info)
    at.text_input(key="live_save_name").set_value("stopped-run")
    at.form_submit_button[0].click().run()
    assert saved_checkpoint("stopped-run") is not None


def keep_alive_script():
    import streamlit as st

    from ui import live_runs

    class Recorder:
        alive = True
        calls = []

        def snapshot(self, probe=True):
            self.calls.append(probe)

    if "live_run" not in st.session_state:
        st.session_state["live_run"] = live_runs.LiveRun(Recorder())
    live_runs.keep_alive()


def test_keep_alive_pings_a_live_run_from_any_page():
    """app.py calls live_runs.keep_alive() on every page: the child's heartbeat while another page is read."""
    from ui import live_runs as training

    at = AppTest.from_function(keep_alive_script, default_timeout=60)
    at.run()
    at.run()
    assert not at.exception
    assert at.session_state["live_run"].trainer.calls == [False, False]  # cheap pings, no probe
    assert training.KEEP_ALIVE < training.HEARTBEAT_TIMEOUT / 2
    assert "live_runs.keep_alive()" in (ROOT / "app.py").read_text()


@pytest.mark.slow
def test_a_bad_or_taken_save_name_is_refused_with_a_message(sessions, state_dir, monkeypatch):
    """Refused at once: a taken name was told only after the model had been scored on the test split (15 s here)."""
    from ui import evaluation

    scored = []
    monkeypatch.setattr(evaluation, "score", lambda *args: scored.append(args))
    at = create_and_play(sessions)
    at.text_input(key="live_save_name").set_value("../escape")
    at.form_submit_button[-1].click().run()
    assert any("Not saved" in e.value for e in at.error)
    assert not list(state_dir.rglob("*escape*"))
    keep_model("taken-name", b"another student's", key="B" * 43)
    at.text_input(key="live_save_name").set_value("taken-name")
    at.form_submit_button[-1].click().run()
    assert any("Not saved: The name taken-name is taken" in e.value for e in at.error), [e.value for e in at.error]
    from classroom import db, models

    assert models.data(db.engine(), models.find(db.engine(), "taken-name").id) == b"another student's"
    assert not scored
    from classroom import scoring

    assert scoring.job_of(db.engine(), models.find(db.engine(), "taken-name").id) is None


def test_models_page_uploads_a_valid_checkpoint_and_deletes_it():
    from classroom import db, models

    torch.manual_seed(0)
    data = checkpoint.to_bytes(VAE(VAEConfig(latent_dim=2, hidden=(16,))))
    at = open_page(PAGES[4])
    at.file_uploader(key="upload_file").set_value(("uploaded.safetensors", data, "application/octet-stream")).run()
    assert any("Valid" in s.value for s in at.success)
    at.form_submit_button[0].click().run()
    assert models.data(db.engine(), models.find(db.engine(), "uploaded").id) == data
    at.run()
    at.checkbox(key="confirm_uploaded").check().run()
    at.button(key="delete_uploaded").click().run()
    assert models.find(db.engine(), "uploaded") is None


def test_two_uploads_in_a_row_are_each_offered_and_kept_under_their_own_name():
    """The second file of a session was offered the first one's name (the name field kept its state), so Keep said
    "the name is taken"."""
    from classroom import db, models

    at = open_page(PAGES[4])
    files = {}
    for seed, name in ((1, "first-upload"), (2, "second-upload")):
        torch.manual_seed(seed)
        files[name] = checkpoint.to_bytes(VAE(VAEConfig(latent_dim=2, hidden=(16,))))
        at.file_uploader(key="upload_file").set_value((f"{name}.safetensors", files[name], "application/octet-stream"))
        at.run()
        assert [t.value for t in at.text_input if t.label == "Save as"] == [name]
        at.form_submit_button[0].click().run()
        assert any(f"Saved as {name}" in s.value for s in at.success), [e.value for e in at.error]
    for name, data in files.items():
        assert models.data(db.engine(), models.find(db.engine(), name).id) == data


class RunsCode:
    def __reduce__(self):
        return (print, ("this must never run",))


def test_models_page_refuses_a_pickle_and_stays_up():
    from classroom import db, models

    at = open_page(PAGES[4])
    at.file_uploader(key="upload_file").set_value(("evil.safetensors", pickle.dumps(RunsCode()), "application/octet-stream")).run()
    assert not at.exception
    assert any("was not accepted" in e.value and "pickle" in e.value for e in at.error)
    assert models.mine(db.engine(), at.session_state["_identity"]) == []


def test_without_mnist_the_pages_say_they_use_the_shipped_sample(tmp_path, monkeypatch):
    import streamlit as st

    monkeypatch.setenv("VAE_DATA_DIR", str(tmp_path / "nowhere"))
    monkeypatch.chdir(tmp_path)  # no ./data here either; downloads are off in tests
    st.cache_resource.clear()
    try:
        at = open_page(PAGES[2])
        assert any("shipped with the project" in w.value for w in at.sidebar.warning)
        assert metric(at, "KL term")  # the page still works, on the sample
    finally:
        st.cache_resource.clear()


def table_value(markdown: str, row: str) -> float:
    line = next(line for line in markdown.splitlines() if line.startswith(f"| {row}"))
    return float(line.split("|")[-2].strip().strip("*"))


def test_posterior_page_shows_the_gap_two_ways_and_moves_with_sigma():
    at = open_page("pages/posterior.py", "mnist-2d-sigma0.3")
    table = next(m.value for m in at.markdown if "grid integral" in m.value)
    gap, kl = table_value(table, "gap"), table_value(table, "KL(q")
    assert gap > 0 and kl == pytest.approx(gap, abs=0.15 + 0.02 * gap)
    assert table_value(table, "log p(x), grid") == pytest.approx(table_value(table, "ELBO") + gap, abs=0.011)
    at.select_slider(key="posterior_sigma").set_value(0.1).run()
    assert not at.exception
    sharper = next(m.value for m in at.markdown if "grid integral" in m.value)
    assert table_value(sharper, "gap") > gap  # a sharper decoder, a worse-fitting q


def test_posterior_page_asks_for_a_2d_model():
    at = open_page("pages/posterior.py", "mnist-16d-sigma0.3")
    assert any("needs a 2-D model" in i.value for i in at.info)


def test_sweep_page_draws_the_curve_and_opens_a_model_of_the_sweep():
    at = open_page("pages/rate_distortion.py")
    assert any("posterior has collapsed" in w.value for w in at.warning)
    names = at.selectbox(key="sweep_member").options
    assert len(names) >= 9
    at.selectbox(key="sweep_member").set_value(names[0]).run()
    at.button(key="sweep_open").click().run()
    assert not at.exception
    assert at.session_state["model"] == names[0]
    assert at.header[0].value == "Explore the latent space"


def test_draw_page_waits_for_a_drawing():
    at = open_page("pages/draw.py")
    assert any("Draw on the black square" in i.value for i in at.info)


def open_link(page: str, query: dict) -> AppTest:
    """A new session opened with a link: `page` with the link's query string."""
    at = session()
    at.query_params.update(query)
    at.switch_page(page).run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def test_a_link_reopens_the_same_view():
    at = open_link("pages/elbo.py", {"model": "mnist-2d-sigma1.0", "elbo_index": "7", "elbo_sigma": "1"})
    assert at.session_state["model"] == "mnist-2d-sigma1.0"
    assert at.number_input(key="elbo_index").value == 7 and at.select_slider(key="elbo_sigma").value == 1.0
    at.number_input(key="elbo_index").set_value(9).run()
    at.number_input(key="elbo_index").set_value(9).run()  # the URL does not pull the widget back
    assert at.number_input(key="elbo_index").value == 9


def test_explore_link_restores_the_selected_point_and_z():
    at = open_page(PAGES[0], query={"model": "mnist-2d-sigma0.3", "index": "37", "z": "1.5,-0.25"})
    assert at.session_state["explore_index"] == 37
    assert at.slider(key="explore_z0").value == 1.5 and at.slider(key="explore_z1").value == -0.25
    assert any("test #37" in c for image in at.image for c in image.captions)
    assert at.query_params["z"] == "1.5,-0.25" and at.query_params["index"] == "37"


@pytest.mark.parametrize("query,words", [
    ({"elbo_index": "nan", "elbo_sigma": "0.3"}, "elbo_index=nan"),
    ({"elbo_index": "99999999999999999999", "elbo_sigma": "0.3"}, "elbo_index=9999"),
    ({"elbo_index": "3", "elbo_sigma": "1e308"}, "elbo_sigma=1e308"),
    ({"elbo_index": "3", "elbo_sigma": "-1"}, "elbo_sigma=-1"),
    ({"model": "../../etc/passwd", "elbo_index": "3"}, "model=../../etc/passwd"),
    ({"dataset": "imagenet"}, "dataset=imagenet"),
])
def test_bad_link_values_are_ignored_with_a_notice(query, words):
    at = open_link("pages/elbo.py", query)
    assert any(words in t.value for t in at.toast)
    assert at.session_state["model"] in SHIPPED + ["mnist-sweep16d-sigma0.3"]
    assert 0 <= at.number_input(key="elbo_index").value < 10_000


def test_fashion_mnist_is_a_sidebar_choice_with_its_own_models():
    at = open_page(PAGES[0])
    at.sidebar.radio(key="dataset").set_value("Fashion-MNIST").run()
    assert not at.exception
    assert at.session_state["model"] == "fashion-2d-sigma0.3"
    options = at.sidebar.selectbox(key="model").options
    assert [o.split()[0] for o in sorted(options)] == ["fashion-16d-sigma0.3", "fashion-2d-sigma0.3"]
    assert "Sneaker" in at.get("plotly_chart")[0].proto.spec  # the classes are Fashion-MNIST's


def test_models_page_shows_the_honest_likelihood():
    at = open_page(PAGES[4])
    text = " ".join(m.value for m in at.markdown)
    assert "86.76" in text and "89.78" in text  # the published references beside ours
    nll = checkpoint.load(ROOT / "checkpoints" / f"{NLL_MODEL}.safetensors").metrics["test"]
    assert nll["iw_samples"] >= 5000 and -nll["log_px_iwae"] <= 88.0
    assert f"{-nll['log_px_iwae']:.2f}" in text


@pytest.mark.slow
def test_two_sessions_do_not_cross_talk_and_each_matches_its_own_cli_run(sessions, tmp_path, mnist_dir, capsys):
    """Different seeds and settings in two sessions: different models, each equal to the CLI's (16 steps = 1 epoch;
    the CLI's main() in this process, as `python -m vae` runs it: tests/unit/test_cli runs it end to end)."""
    from tests.support.cli import vae_here

    recipes = [(1, 1e-3, 0.3), (2, 3e-3, 0.1)]
    for seed, lr, sigma in recipes:
        at = open_page(PAGES[3])
        sessions.append(at)
        at.radio[0].set_value("2,000")
        at.number_input(key="train_seed").set_value(seed)
        at.select_slider(key="train_lr").set_value(lr)
        at.select_slider(key="train_sigma").set_value(sigma)
        at.button(key="train_create").click().run()
        assert not at.exception
    for at, (seed, lr, sigma) in zip(sessions, recipes):  # both processes exist at once; each steps its own model
        trainer = at.session_state["live_run"].trainer
        assert trainer.step(steps=16) == 16
        trainer.save(tmp_path / f"live{seed}.safetensors")
    assert sessions[0].session_state["live_run"].trainer.process.pid != sessions[1].session_state["live_run"].trainer.process.pid
    live = [checkpoint.load(tmp_path / f"live{seed}.safetensors") for seed, _, _ in recipes]
    assert not torch.equal(live[0].model.decoder[0].weight, live[1].model.decoder[0].weight)
    for ckpt, (seed, lr, sigma) in zip(live, recipes):
        assert (ckpt.config.seed, ckpt.config.lr, ckpt.config.sigma_dec) == (seed, lr, sigma)
        out = tmp_path / f"cli{seed}.safetensors"
        code, _, err = vae_here(capsys, "train", "--data-dir", mnist_dir, "--limit", 2000, "--epochs", 1,
                                "--latent-dim", 2, "--hidden", 256, "--sigma-dec", sigma, "--lr", lr, "--seed", seed,
                                "--out", out, "--eval-iw-samples", 0, "--device", "cpu")
        assert code == 0, err
        cli = checkpoint.load(out)
        for name, tensor in cli.model.state_dict().items():
            torch.testing.assert_close(ckpt.model.state_dict()[name], tensor, rtol=0, atol=1e-5)


COLD_EXPLORE = """
import sys
from streamlit.runtime.pages_manager import PagesManager
from streamlit.testing.v1 import AppTest, app_test

class EntrypointPages(PagesManager):  # as tests/conftest.py does
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        PagesManager.uses_pages_directory = False

app_test.PagesManager = EntrypointPages
at = AppTest.from_file(sys.argv[1], default_timeout=120)
at.switch_page("pages/explore.py").run()
assert not at.exception, [e.value for e in at.exception]
assert len(at.get("plotly_chart")) == 2, "the scatter and the manifold grid"
print("imported:", sorted(name for name in ("pandas", "torch") if name in sys.modules))
"""


def test_the_landing_page_imports_neither_torch_nor_pandas():
    """A cold start's first page decodes in numpy and hands the pad one JSON string: Streamlit sniffs every list
    or dict given to a component for dataframes, which imports pandas (~0.4 s of the first run)."""
    import subprocess
    import sys

    done = subprocess.run([sys.executable, "-c", COLD_EXPLORE, str(ROOT / "app.py")], capture_output=True, text=True,
                          timeout=300, cwd=ROOT)
    assert done.returncode == 0, done.stderr[-3000:]
    assert done.stdout.strip().splitlines()[-1] == "imported: []", done.stdout


def test_the_server_collects_garbage_at_most_every_30_seconds_not_after_every_run(monkeypatch):
    """Streamlit's gc.collect(2) after every script and fragment run took 23 % of the server's CPU over the browser
    tour; now .streamlit/config.toml turns it off (as a server started here reads it) and app.py collects at most
    every GC_EVERY seconds (AppTest's script runner never collected). The source watcher, which walked every loaded
    module's file for each new session (15 % of the server's CPU), is off too."""
    import gc
    import subprocess
    import sys

    from ui import shell

    read = subprocess.run([sys.executable, "-c", "from streamlit import config; print(config.get_option("
                           "'runner.postScriptGC'), config.get_option('server.fileWatcherType'))"],
                          capture_output=True, text=True, cwd=ROOT)
    assert read.stdout.split() == ["False", "none"], read
    collected = []
    monkeypatch.setattr(gc, "collect", lambda *generation: collected.append(generation))
    monkeypatch.setattr(shell, "_last_gc", [0.0])  # long ago
    at = open_page("pages/class.py")  # a light page
    assert not at.exception and len(collected) == 1
    at.run()
    at.run()
    assert len(collected) == 1  # within GC_EVERY: none
    shell._last_gc[0] -= shell.GC_EVERY
    at.run()
    assert len(collected) == 2
