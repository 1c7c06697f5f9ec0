"""The Generate and Reparameterisation pages and the ELBO page's sweep mode, run through app.py (AppTest):
numbers on the page against vae/ computed here, on MNIST and Fashion-MNIST models."""
import json

import numpy as np
import pytest

from tests.support import ROOT
from tests.support.app import metric, open_page
from vae import checkpoint
from vae.data import load_dataset
from vae.generate import monte_carlo_elbo, prior_codes, std_with_error
from vae.sweep import load_results, reconstruction_term

GENERATE, SAMPLING, ELBO = "pages/generate.py", "pages/reparameterisation.py", "pages/elbo.py"


def samples_trace(at, index: int = 0) -> np.ndarray:
    """The (x, y) of the "samples" trace of the page's `index`-th Plotly chart."""
    spec = json.loads(at.get("plotly_chart")[index].proto.spec)
    trace = next(t for t in spec["data"] if t.get("name") == "samples")

    def values(v):
        if isinstance(v, dict):  # plotly's typed-array encoding
            import base64

            return np.frombuffer(base64.b64decode(v["bdata"]), dtype=np.dtype(v["dtype"]))
        return np.asarray(v, dtype=np.float64)

    return np.stack([values(trace["x"]), values(trace["y"])], 1)


@pytest.mark.parametrize("model", ["mnist-2d-sigma0.3", "fashion-2d-sigma0.3"])
def test_the_generate_page_draws_prior_samples_and_places_their_z(model):
    at = open_page(GENERATE, model)
    at.slider(key="generate_tau").set_value(0.7).run()
    assert not at.exception
    np.testing.assert_allclose(samples_trace(at), prior_codes(48, 2, 0.7, seed=0).numpy(), rtol=1e-5, atol=1e-6)
    at.button(key="generate_resample").click().run()
    assert at.number_input(key="generate_seed").value == 1
    np.testing.assert_allclose(samples_trace(at), prior_codes(48, 2, 0.7, seed=1).numpy(), rtol=1e-5, atol=1e-6)
    at.radio(key="generate_show").set_value("a draw from p(x|z)").run()
    assert not at.exception and any("σ_dec = 0.3" in c.value and "±0.3" in c.value for c in at.caption)
    assert str(at.query_params["generate_seed"]) in ("1", "['1']")  # the seed is in the link


def test_the_generate_page_projects_16d_samples_and_traverses_dimensions_by_kl():
    at = open_page(GENERATE, "mnist-16d-sigma0.3")
    saved = checkpoint.load(ROOT / "checkpoints" / "mnist-16d-sigma0.3.safetensors")
    assert len(samples_trace(at)) == 48
    assert any(s.value == "Latent traversals" for s in at.subheader)
    kl = saved.metrics["test"]["kl_per_dim"]
    labels = [m.value for m in at.markdown if m.value.startswith("**z")]
    assert len(labels) == 16
    shown = [float(label.split("KL ")[1].split()[0]) for label in labels]
    assert shown == sorted(shown, reverse=True) and shown[0] == round(max(kl), 2)


def test_the_reparameterisation_page_shows_the_monte_carlo_estimate_of_vae_generate():
    at = open_page(SAMPLING, "mnist-2d-sigma0.3")
    at.slider(key="sampling_l").set_value(16).run()
    at.number_input(key="sampling_index").set_value(7).run()
    assert not at.exception
    saved = checkpoint.load(ROOT / "checkpoints" / "mnist-2d-sigma0.3.safetensors")
    x = load_dataset("mnist", "test").images[7].float().flatten() / 255
    mc = monte_carlo_elbo(saved.model, x, 16, seed=0)
    assert metric(at, "(1/L) Σ log p(x|z⁽ˡ⁾), L = 16") == f"{mc.reconstruction:.2f}"
    assert metric(at, "KL(q ‖ p(z)), closed form") == f"{mc.kl:.3f}"
    assert metric(at, "ELBO estimate") == f"{mc.elbo:.2f}"
    np.testing.assert_allclose(samples_trace(at), mc.z, rtol=1e-5, atol=1e-5)  # the samples drawn where z is
    at.button(key="sampling_resample").click().run()
    assert metric(at, "(1/L) Σ log p(x|z⁽ˡ⁾), L = 16") == f"{monte_carlo_elbo(saved.model, x, 16, seed=1).reconstruction:.2f}"
    assert len([i for i in at.image if i.proto.imgs and "z⁽" in (i.proto.imgs[0].caption or "")]) == 16
    # The spread of the L scores: the sample std with its bootstrap error (one tail draw can make L = 64's larger
    # than L = 8's), and none at all for a single score (it read 0.00).
    scores = monte_carlo_elbo(saved.model, x, 16, seed=1).log_px_given_z
    assert metric(at, "std of the L scores log p(x|z⁽ˡ⁾)") == "{:.2f} ± {:.2f}".format(*std_with_error(scores, seed=1))
    at.slider(key="sampling_l").set_value(1).run()
    assert metric(at, "std of the L scores log p(x|z⁽ˡ⁾)") == "–"


def test_the_reparameterisation_page_on_a_16d_fashion_model_and_a_drawing():
    at = open_page(SAMPLING, "fashion-16d-sigma0.3")
    assert len(samples_trace(at)) == 8
    at.session_state["draw_framed"] = np.zeros((28, 28), dtype=np.float32)
    at.run()
    at.radio(key="sampling_source").set_value("your drawing").run()
    assert not at.exception
    assert at.number_input(key="sampling_index").disabled


def test_the_sweep_mode_shows_each_members_stored_figures_and_both_terms_move():
    at = open_page(ELBO, "mnist-2d-sigma0.3")
    at.radio(key="elbo_mode").set_value("a model trained at each σ_dec").run()
    assert not at.exception
    assert any("Mode: a model trained at each σ_dec" in i.value for i in at.info)
    assert at.select_slider(key="elbo_sweep_sigma").value == "0.3"  # the member nearest the model's own σ_dec
    results = load_results(ROOT / "checkpoints" / "sweeps" / "mnist-16d-sigma")
    kls, distortions = [], []
    for point in results["points"]:
        at.select_slider(key="elbo_sweep_sigma").set_value(f"{point['value']:g}").run()
        assert not at.exception
        assert metric(at, "Test KL") == f"{point['rate']:.3f}"
        assert metric(at, "Test reconstruction") == f"{reconstruction_term(point):.2f}"
        assert metric(at, "Test distortion") == f"{point['distortion']:.2f}"
        kls.append(float(metric(at, "KL")))
        distortions.append(float(metric(at, "Distortion")))
    assert kls[0] > 40 and kls[-1] < 0.5  # about 80 nats → 0 over the sweep, for one digit too
    assert distortions[-1] > 3 * distortions[3]  # the collapsed model reconstructs far worse than σ = 0.3's
    # The sentence beside the chart: the reconstruction terms differ by the constant −(D/2)·log 2πσ² alone, so much
    # that σ = 0.05 (better reconstruction) reads lower than σ = 0.1 on the test set.
    first, last = results["points"][0]["value"], results["points"][-1]["value"]
    shift = 784 / 2 * np.log(last ** 2 / first ** 2)
    assert any(f"differs by {shift:,.0f} nats between σ_dec = {first:g} and {last:g}" in c.value for c in at.caption)
    low, next_ = results["points"][0], results["points"][1]
    assert low["distortion"] < next_["distortion"] and reconstruction_term(low) < reconstruction_term(next_)


@pytest.mark.parametrize("model, opening", [("mnist-2d-sigma0.1", "0.1"), ("mnist-2d-sigma1.0", "1"),
                                            ("mnist-16d-sigma0.3", "0.3")])
def test_the_sweep_mode_opens_at_the_member_nearest_the_models_sigma(model, opening):
    at = open_page(ELBO, model)
    at.radio(key="elbo_mode").set_value("a model trained at each σ_dec").run()
    assert at.select_slider(key="elbo_sweep_sigma").value == opening
    at.radio(key="elbo_mode").set_value("this model: σ_dec changed alone").run()
    assert not at.exception and metric(at, "KL term")


def test_the_sweep_mode_on_a_fashion_model_says_the_sweep_is_of_mnist_models():
    at = open_page(ELBO, "fashion-2d-sigma0.3")
    at.radio(key="elbo_mode").set_value("a model trained at each σ_dec").run()
    assert not at.exception
    assert any("The sweep is of MNIST models, not of the Fashion-MNIST model chosen" in i.value for i in at.info)
    assert metric(at, "Test KL")  # the MNIST sweep's figures, drawn
