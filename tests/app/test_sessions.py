"""A session, not a path (AppTest): pages left and revisited, choices changed again and again, saves that show up.

Each test here failed on the app before its state frame (the issue that made the sidebar part of app.py):
the defect it guards against is named in its docstring.
"""
import pytest
from streamlit.testing.v1 import AppTest

from tests.support.app import BROWSER_KEY, keep_model
from tests.support.app import session as new_session

PAGES = ["pages/explore.py", "pages/interpolate.py", "pages/generate.py", "pages/elbo.py", "pages/reparameterisation.py",
         "pages/posterior.py", "pages/rate_distortion.py", "pages/draw.py", "pages/train.py", "pages/models.py",
         "pages/class.py", "pages/learn.py", "pages/lesson.py", "pages/gaps.py"]


@pytest.fixture(autouse=True)
def data(mnist_dir):
    return mnist_dir


def session(model: str | None = None, page: str = "pages/explore.py") -> AppTest:
    at = new_session()
    if model:
        at.session_state["model"] = model
    return ok(at.switch_page(page).run())


def ok(at: AppTest) -> AppTest:
    assert not at.exception, [e.value for e in at.exception]
    return at


def visit(at: AppTest, page: str) -> AppTest:
    return ok(at.switch_page(page).run())


def every_ordered_pair(n: int) -> list[int]:
    """A walk over n pages that takes every step i → j (i ≠ j) at least once: i, j, i for each j > i."""
    walk = [0]
    for i in range(n):
        if walk[-1] != i:
            walk.append(i)
        for j in range(i + 1, n):
            walk += [j, i]
    return walk


@pytest.mark.slow
@pytest.mark.parametrize("model", ["mnist-2d-sigma0.3", "mnist-16d-sigma0.3", "fashion-2d-sigma0.3"])
def test_every_page_to_every_other_page_and_back(model):
    """Explore → any page → Explore raised KeyError 'explore_z0' (a widget key dropped on the page switch)."""
    at = session(model)
    walk = every_ordered_pair(len(PAGES))
    assert {(a, b) for a, b in zip(walk, walk[1:])} == {(a, b) for a in range(len(PAGES)) for b in range(len(PAGES)) if a != b}
    for step, (came_from, page) in enumerate(zip(walk, walk[1:])):
        at.switch_page(PAGES[page]).run()
        assert not at.exception, (step, PAGES[came_from], PAGES[page], [e.value for e in at.exception])
        assert at.header, f"{PAGES[page]} drew nothing after {PAGES[came_from]}"
        assert at.session_state["model"] == model
        if page == 0:
            assert len(at.get("plotly_chart")) >= 1, f"Explore after {PAGES[came_from]}: no scatter"


def test_explore_keeps_its_z_and_selection_across_a_page_switch():
    at = session()
    at.slider(key="explore_z0").set_value(1.25).run()
    visit(at, "pages/elbo.py")
    visit(at, PAGES[0])
    assert at.slider(key="explore_z0").value == 1.25
    assert "z = (1.25" in at.image[-1].captions[0]


@pytest.mark.parametrize("page,key", [("pages/elbo.py", "elbo_sigma"), ("pages/posterior.py", "posterior_sigma"),
                                      ("pages/gaps.py", "gaps_sigma")])
def test_sigma_dec_survives_leaving_the_page_and_coming_back(page, key):
    """σ_dec went back to 0.01 after leaving ELBO or True posterior; once it showed 0.01 while the table used 0.3."""
    at = session()
    visit(at, page)
    at.select_slider(key=key).set_value(0.7).run()
    for other in ("pages/explore.py", "pages/models.py"):
        visit(at, other)
        visit(at, page)
        assert at.select_slider(key=key).value == 0.7
    if page == "pages/elbo.py":
        assert next(m.value for m in at.metric if m.label == "equivalent β = 2σ²") == "0.98"  # computed at σ = 0.7
    if page == "pages/gaps.py":
        assert any(m.value.startswith("For this digit at σ_dec = 0.7 ") for m in at.markdown)  # the split at 0.7


@pytest.mark.slow
def test_sidebar_model_changed_three_times_on_every_page_sticks():
    """Every second sidebar change was ignored (the selectbox was keyed by the current choice)."""
    at = session()
    for page in PAGES:
        visit(at, page)
        for model in ("mnist-2d-sigma0.1", "mnist-2d-sigma1.0", "mnist-16d-sigma0.3"):
            ok(at.sidebar.selectbox(key="model").set_value(model).run())
            assert at.session_state["model"] == model
            assert at.sidebar.selectbox(key="model").value == model
        ok(at.sidebar.selectbox(key="model").set_value("mnist-2d-sigma0.3").run())


def test_dataset_changed_three_times_brings_each_datasets_model():
    at = session()
    for dataset, model in (("Fashion-MNIST", "fashion-2d-sigma0.3"), ("MNIST", "mnist-2d-sigma0.3"),
                           ("Fashion-MNIST", "fashion-2d-sigma0.3")):
        ok(at.sidebar.radio(key="dataset").set_value(dataset).run())
        assert at.session_state["model"] == model


def test_a_beta_above_the_old_live_limit_trains():
    """A model created with β > 4 crashed the Train page: the form allowed 10, the live slider stopped at 4."""
    at = session()
    visit(at, "pages/train.py")
    at.radio(key="train_size").set_value("2,000")
    at.number_input(key="train_beta").set_value(7.5)
    ok(at.button(key="train_create").click().run())
    try:
        assert at.slider(key="live_beta").value == 7.5
        assert at.slider(key="live_beta").max == 10.0  # the form's maximum
    finally:
        at.session_state["live_run"].trainer.stop()


@pytest.mark.slow
def test_a_saved_live_model_is_in_the_sidebar_at_once(quick_scoring):
    """After Save the message said "Choose it in the sidebar", but the model appeared there one run later."""
    at = session()
    visit(at, "pages/train.py")
    at.radio(key="train_size").set_value("2,000")
    ok(at.button(key="train_create").click().run())
    try:
        at.session_state["live_run"].trainer.step(steps=2)
        at.text_input(key="live_save_name").set_value("saved-now")
        ok(at.form_submit_button[-1].click().run())
        from classroom import db, models

        assert models.find(db.engine(), "saved-now") is not None
        assert "saved-now" in at.sidebar.selectbox(key="model").options
        assert any("saved-now" in s.value for s in at.success)
    finally:
        at.session_state["live_run"].trainer.stop()


def test_fashion_pages_speak_of_garments_and_bad_hidden_widths_name_the_field():
    """Fashion-MNIST pages said "test digit" and "Interpolate between two digits"; "abc" as hidden widths answered
    "invalid literal for int() with base 10"."""
    at = session("fashion-2d-sigma0.3")
    visit(at, "pages/interpolate.py")
    assert at.header[0].value == "Interpolate between two garments"
    visit(at, "pages/elbo.py")
    assert at.number_input(key="elbo_index").label == "Test garment"
    visit(at, "pages/train.py")
    at.text_input(key="train_hidden").set_value("abc")
    ok(at.button(key="train_create").click().run())
    message = " ".join(e.value for e in at.error)
    assert "Hidden widths" in message and "'abc'" in message and "invalid literal" not in message


def test_create_stop_create_again_keeps_the_page():
    """Create → Stop → Create raised: the new run's save name was written into a widget key already drawn."""
    at = session()
    visit(at, "pages/train.py")
    at.radio(key="train_size").set_value("2,000")
    ok(at.button(key="train_create").click().run())
    try:
        first, first_name = at.session_state["live_run"], at.text_input(key="live_save_name").value
        ok(at.button(key="live_stop").click().run())
        at.number_input(key="train_seed").set_value(5)
        at.select_slider(key="train_sigma").set_value(0.5)
        ok(at.button(key="train_create").click().run())
        assert at.session_state["live_run"] is not first
        name = at.text_input(key="live_save_name").value  # the new run's own default name
        assert name.startswith("mnist-2d-sigma0.5-") and name != first_name
    finally:
        at.session_state["live_run"].trainer.stop()


def test_draw_on_a_tsne_map_says_it_cannot_place_the_drawing(monkeypatch, mnist_test):
    """Draw, then choose t-SNE: the page asked t-SNE (which cannot map a new point) where the drawing lands."""
    import numpy as np

    import ui.draw_canvas

    digit = mnist_test.images[0].numpy().astype(np.float32) / 255.0
    monkeypatch.setattr(ui.draw_canvas, "draw_canvas", lambda *args, **kwargs: np.kron(digit, np.ones((2, 2))))
    at = session("mnist-16d-sigma0.3")
    visit(at, "pages/draw.py")
    ok(at.radio(key="draw_projection").set_value("tsne").run())
    assert any("t-SNE map cannot place" in c.value for c in at.caption)
    ok(at.radio(key="draw_projection").set_value("pca").run())
    assert any("× marks your drawing" in c.value for c in at.caption)


def test_explore_starts_afresh_when_a_model_of_the_same_name_changes_its_latent_size():
    """A model deleted and saved again under the same name with another latent size: Explore kept the old z."""
    import torch

    from classroom import db, identity, models
    from vae import VAE, VAEConfig, checkpoint

    def save(latent_dim):
        torch.manual_seed(0)
        return keep_model("mine", checkpoint.to_bytes(VAE(VAEConfig(latent_dim=latent_dim, hidden=(16,)))))

    first = save(2)
    at = session("mine")
    at.slider(key="explore_z1").set_value(1.0).run()
    models.delete_mine(db.engine(), identity.of_browser(BROWSER_KEY), first.id)
    save(3)
    ok(at.run())
    assert [s.value for s in at.slider if s.key and s.key.startswith("explore_z")] == [0.0, 0.0, 0.0]


def test_a_clicked_float32_point_is_clipped_inside_the_sliders_range():
    """A click on a point beyond the scatter's range (its mean float32) was clipped with np.clip, which rounded the
    maximum back to float32, 1.5e-9 above the slider's maximum: Streamlit refused the slider value."""
    import numpy as np

    from ui.latent_view import clip_to

    z = np.array([5.0, -5.0, 0.05], dtype=np.float32)
    limits = [(-0.1, 0.1)] * 3
    assert float(np.clip(z[0], *limits[0])) > 0.1  # the old way
    assert clip_to(z, limits) == [0.1, -0.1, float(np.float32(0.05))]
    assert all(type(v) is float for v in clip_to(z, limits))


def test_a_reloaded_tab_reattaches_to_its_run_and_no_other_token_does():
    """A reload started a new session that had lost the run (the old process lingered until its heartbeat ended).
    The tab's token (sessionStorage in a browser; set here as the component's value) brings it back."""
    from ui import live_runs

    at = session()
    visit(at, "pages/train.py")
    at.radio(key="train_size").set_value("2,000")
    ok(at.button(key="train_create").click().run())
    run = at.session_state["live_run"]
    try:
        run.trainer.step(steps=3)
        assert live_runs.attach(run.token) is run
        assert len(run.token) >= 32  # secrets.token_urlsafe(24): 192 random bits
        for guess in ("", "0", run.token[:-1], run.token + "x", None, 7):
            assert live_runs.attach(guess) is None
        reloaded = session()  # a new Streamlit session, as after a reload
        reloaded.session_state["live_token"] = {"token": run.token}  # what the tab's sessionStorage reports
        reloaded.query_params["train_at"] = "1"  # the address the page had: the timeline scrubbed to step 1
        visit(reloaded, "pages/train.py")
        assert reloaded.session_state["live_run"] is run
        assert any(m.label == "Step" and m.value == "3" for m in reloaded.metric)
        # the run's timeline came back with it, where the address had it
        assert reloaded.select_slider(key="train_at").value == 1 and run.trainer.timeline().steps == [0, 1, 2, 3]
        assert any("at step 1 of 3" in c.value for c in reloaded.caption)
        stranger = session()
        stranger.session_state["live_token"] = {"token": "x" * 32}
        visit(stranger, "pages/train.py")
        assert "live_run" not in stranger.session_state
    finally:
        live_runs.end(run)
    assert live_runs.attach(run.token) is None  # a stopped run is forgotten


def test_a_slider_at_its_maximum_keeps_it_exactly():
    """The monkey (seed 12, step 1843): End on a 1-D model's z1 slider raised StreamlitValueAboveMaxError — the
    slider was set back from z in float32, which rounded 4.3065660156250045 up to 4.30656623840332."""
    import torch

    from vae import VAE, VAEConfig, checkpoint

    torch.manual_seed(0)
    keep_model("one-d", checkpoint.to_bytes(VAE(VAEConfig(latent_dim=1, hidden=(16,)))))
    at = session("one-d")
    slider = at.slider(key="explore_z0")
    for value in (slider.max, slider.min):
        ok(at.slider(key="explore_z0").set_value(value).run())
        assert at.slider(key="explore_z0").value == value
        ok(at.run())
        assert at.slider(key="explore_z0").value == value
