"""Every sentence true: where a page or a document states a fact or a trend, the number is computed here,
independently of the code that drew the page, and the words are held to it."""
import ast
import json
import math
import re

import numpy as np
import pytest
import torch
from torch.distributions import Normal

from tests.support import ROOT, shipped
from tests.support.app import open_page
from vae.posterior import true_posterior
from vae.collapse import ACTIVE_THRESHOLD


def test_the_gaussian_decoder_is_a_density_on_the_whole_space_not_on_the_unit_cube(mnist_test):
    """docs/math.md: at z = μ of test digit #0, N(decode(z), σ²I) keeps e^−465 of its mass inside [0, 1]^D, a
    background pixel about half of its own; so "a density on [0, 1]^D" (the old wording) was wrong."""
    model = shipped("mnist-2d-sigma0.3")
    x = mnist_test.images[:1].flatten(1).float() / 255
    with torch.no_grad():
        x_hat = model.decode(model.encode(x)[0]).double()[0]
    unit = Normal(x_hat, 0.3)
    inside = unit.cdf(torch.tensor(1.0, dtype=torch.float64)) - unit.cdf(torch.tensor(0.0, dtype=torch.float64))
    log_mass = float(inside.log().sum())
    background = inside[(x[0] == 0) & (x_hat < 0.05)]
    assert log_mass == pytest.approx(-465, abs=1)
    assert float(background.mean()) == pytest.approx(0.5, abs=0.05)
    math_md = (ROOT / "docs" / "math.md").read_text()
    assert f"keeps e^−{-round(log_mass)} of its mass inside [0, 1]^D" in math_md
    for path in ("README.md", "docs/math.md", "vae/units.py", "pages/models.py"):
        text = " ".join((ROOT / path).read_text().split())
        assert "density on [0, 1]^D" not in text, path
        assert "by Jensen" not in text, path  # the bound holds for the dequantised average, not one grid point
        assert "each grey level a 1/256-wide bin" not in text, path
    assert "grey levels k/255" in " ".join((ROOT / "README.md").read_text().split())


def test_the_active_unit_threshold_is_written_as_the_code_uses_it():
    """Every sentence of the docs and README that gives the threshold of an active unit gives the code's."""
    said = []
    for path in ("README.md", "docs/math.md"):
        text = " ".join((ROOT / path).read_text().split())
        said += re.findall(r"(?:active when[^.]*?exceeds|below|KL per unit <|KL ≤|KL >)\s*([0-9.]+) nats", text)
    assert said and all(float(v) == ACTIVE_THRESHOLD for v in said), said


def test_the_rate_is_an_upper_bound_on_the_information_the_code_carries(mnist_test):
    """Rate = E_x KL(q(z|x) ‖ p(z)) = I_q(x; z) + KL(q(z) ‖ p(z)) ≥ I_q(x; z). Here I_q(x; z) of 2,000 test digits
    under the default model, estimated with the aggregate posterior q(z) = (1/N) Σ q(z|x_n), is below the rate;
    the Rate–distortion page says "upper bound"."""
    model = shipped("mnist-2d-sigma0.3")
    x = mnist_test.images[:2000].flatten(1).float() / 255
    with torch.no_grad():
        mu, logvar = (t.double() for t in model.encode(x))
    std = torch.exp(0.5 * logvar)
    rate = float(0.5 * (std ** 2 + mu ** 2 - 1 - logvar).sum(1).mean())
    z = mu + std * torch.randn(mu.shape, generator=torch.Generator().manual_seed(0), dtype=torch.float64)
    log_q_all = Normal(mu[None], std[None]).log_prob(z[:, None]).sum(-1)  # [sample n, component m]
    log_aggregate = torch.logsumexp(log_q_all, 1) - math.log(len(x))
    information = float((log_q_all.diagonal() - log_aggregate).mean())
    assert 0 < information < rate
    assert information <= math.log(len(x)) + 1e-9
    at = open_page("pages/rate_distortion.py")
    caption = next(c.value for c in at.caption if "Rate = E KL" in c.value)
    assert "an upper bound on the information" in caption


@pytest.mark.slow
@pytest.mark.parametrize("index", [0, 1])
def test_the_posterior_pages_words_on_the_gap_follow_the_gap_computed_here(mnist_test, index):
    """The gap log p(x) − ELBO at each σ_dec of the page's curve, here from the grid's log p(x) minus a Monte-Carlo
    ELBO (not the page's quadrature of KL(q ‖ p(z|x))); the page names the σ_dec where it is smallest, says whether
    it grows on both sides, and that it grows faster below that σ_dec than above."""
    at = open_page("pages/posterior.py", "mnist-2d-sigma0.3", {"posterior_index": str(index)})
    figures = [json.loads(chart.proto.spec) for chart in at.get("plotly_chart")]
    [sigmas] = [trace["x"] for figure in figures for trace in figure["data"] if trace.get("name") == "KL(q ‖ p(z|x))"]
    assert 0.3 in sigmas and len(sigmas) >= 5  # the page's curve, through the σ_dec the model was trained at
    model = shipped("mnist-2d-sigma0.3")
    x = mnist_test.images[index].flatten().float() / 255
    # n sizes the figure's grids, which the gap (grid log p(x) − Monte-Carlo ELBO) does not use
    gaps = [true_posterior(model, x, sigma_dec=s, n=51, mc_samples=20_000, iw_samples=10).gap for s in sigmas]
    best = int(np.argmin(gaps))
    steady = all(np.diff(gaps[:best + 1]) < 0) and all(np.diff(gaps[best:]) > 0)
    below = (gaps[0] - gaps[best]) / (math.log(sigmas[best]) - math.log(sigmas[0]))  # nats per e-fold of σ_dec
    above = (gaps[-1] - gaps[best]) / (math.log(sigmas[-1]) - math.log(sigmas[best]))
    assert below > 5 * above  # "grows fast" below the smallest gap, "slowly" above it

    words = " ".join(m.value for m in at.markdown if "the gap is smallest" in m.value)
    if sigmas[best] == 0.3:
        assert "the gap is smallest at the σ_dec the model was trained at (σ_dec = 0.3" in words
    else:
        assert f"the gap is smallest at σ_dec = {sigmas[best]:g}, above the 0.3 the model was trained at" in words
    assert ("it grows on both sides" in words) == steady
    print(f"test #{index}: gaps " + ", ".join(f"{s:g}: {g:.2f}" for s, g in zip(sigmas, gaps)))


def test_no_page_echoes_a_bare_expression():
    """Streamlit's magic writes the value of a bare expression (not a plain call) in a page's script, even inside a
    callback: `trainer.play() if playing else trainer.pause()` put a "None" above Train live's heading."""
    from streamlit.runtime.scriptrunner.magic import add_magic

    echoed = []
    for path in [ROOT / "app.py", *sorted((ROOT / "pages").glob("*.py"))]:
        tree = add_magic(path.read_text(), str(path))
        echoed += [f"{path.name}:{node.lineno}: {ast.unparse(node)[:80]}" for node in ast.walk(tree)
                   if isinstance(node, ast.Call) and "__streamlitmagic__" in ast.unparse(node.func)]
    assert not echoed, echoed


@pytest.mark.slow
@pytest.mark.parametrize("model", ["fashion-2d-sigma0.3", "fashion-16d-sigma0.3"])
def test_a_fashion_model_is_never_called_digits(model):
    """On Fashion-MNIST the pages said "Digit A (test index)", "60,000 training digits", "FashionMNIST", and the
    scatter's points were "test digits". "digit" may appear only where MNIST itself is meant."""
    from tests.support.app import PAGES

    at = open_page(PAGES[0], model)
    wrong = []
    for page in PAGES:
        at.switch_page(page).run()
        assert not at.exception, [e.value for e in at.exception]
        for kind, text in element_texts(at):
            for match in re.finditer(r".{0,50}((?<!letters, )(?<!letters and )digit|FashionMNIST(?!/)).{0,50}", text,
                                     re.I):  # "letters and digits" are characters, not images
                if "MNIST" not in match.group(0).replace("Fashion-MNIST", "").replace("FashionMNIST/", "") \
                        or re.search("FashionMNIST(?!/)", match.group(0)):
                    wrong.append(f"{page}: {kind}: …{match.group(0)}…")
    assert not wrong, "\n".join(wrong)


def element_texts(at):
    """(kind, text) of every element AppTest holds, images' pixels and components' code left out."""
    out = []

    def walk(node):
        proto, kind = getattr(node, "proto", None), getattr(node, "type", "")
        if proto is not None and kind not in ("image", "imgs", "bidi_component"):
            out.append((kind, re.sub(r"data:image/[A-Za-z0-9+/=;,]+", "", str(proto))))
        for child in (getattr(node, "children", None) or {}).values():
            walk(child)

    walk(at._tree)
    return out


def test_the_generation_steps_words_on_code_lengths():
    """Step 10: √(E‖z‖²) = √d·τ is the root-mean-square length, not where 2-D codes lie: E‖z‖ = 1.25τ there, and
    the lengths spread past 2τ (e^−2 = 13.5 % of them); at d = 16 and 50 over 80 % lie within τ of √d·τ."""
    from ui.learn.steps import generation
    from vae.generate import mean_prior_norm, prior_radius

    generator = torch.Generator().manual_seed(3)
    plane = torch.randn(400_000, 2, generator=generator, dtype=torch.float64).norm(dim=1)
    assert float(plane.mean()) == pytest.approx(mean_prior_norm(2), abs=0.005) == pytest.approx(math.sqrt(math.pi / 2))
    assert float((plane > 2).double().mean()) == pytest.approx(math.exp(-2), abs=0.003)
    for d in (16, 50):
        lengths = torch.randn(200_000, d, generator=generator, dtype=torch.float64).norm(dim=1)
        assert float(lengths.pow(2).mean().sqrt()) == pytest.approx(prior_radius(d), rel=0.01)
        assert float(((lengths - prior_radius(d)).abs() < 1).double().mean()) > 0.8
    source = (ROOT / "ui" / "learn" / "steps" / "generation.py").read_text()
    assert "over 80 %" in source and "past 2τ" in source and "≈ √d" not in source
    assert generation.SPREAD_SAMPLES >= 200


def test_the_kl_steps_example_where_the_printed_formula_agrees():
    """Step 8: the printed KL exceeds the right one by ½(∏σᵢ² − Σσᵢ² + d), zero at σ² = (3, 0.5), whatever μ."""
    from vae.objective import kl_to_standard_normal, printed_kl

    logvar = torch.log(torch.tensor([[3.0, 0.5]], dtype=torch.float64))
    for mu in (torch.zeros(1, 2), torch.tensor([[1.5, -0.7]])):
        mu = mu.double()
        assert float(printed_kl(mu, logvar)[0]) == pytest.approx(float(kl_to_standard_normal(mu, logvar)[0]), abs=1e-12)
    assert "σ² = (3, 0.5)" in (ROOT / "ui" / "learn" / "steps" / "kl.py").read_text()


def test_the_path_quotes_its_estimators_settings():
    """The numbers the path's sentences quote about its own computations are the code's: the evidence grid's
    tolerance and q's cells (step 3), Adam's β₁ and β₂ (step 9), the probes' spacing and images (step 9)."""
    from ui.learn.steps import evidence, training
    from vae.config import VAEConfig
    from vae.posterior import EVIDENCE_TOLERANCE
    from vae.train import Trainer

    source = (ROOT / "ui" / "learn" / "steps" / "evidence.py").read_text()
    assert EVIDENCE_TOLERANCE == 0.01 and "less than 0.01 nats" in source and evidence.Q_CELLS == 61
    trainer = Trainer(VAEConfig(latent_dim=2, hidden=(8,)), torch.zeros(4, 784), device="cpu")
    assert trainer.optimizer.defaults["betas"] == (0.9, 0.999)
    assert isinstance(trainer.optimizer, torch.optim.Adam)
    assert "β₁ = 0.9, β₂ = 0.999" in (ROOT / "ui" / "learn" / "steps" / "training.py").read_text()
    assert training.PROBE == 500 and training.EVERY == 5


def test_the_decoder_step_uses_the_decomposition_steps_draws(mnist_test):
    """Step 6 says its reconstruction term comes from the same draws as step 5's: at the model's own σ_dec the
    two pages show the same number."""
    at4 = open_page("pages/learn.py", "mnist-2d-sigma0.3", {"learn_step": "5"})  # reconstruction minus KL
    at5 = open_page("pages/learn.py", "mnist-2d-sigma0.3", {"learn_step": "6"})  # the decoder and σ_dec
    value = next(m.value for m in at4.metric if m.label == "Reconstruction term").split(" ±")[0]
    assert f"&= {value} \\pm" in " ".join(e.value for e in at5.latex)
    assert "the same draws as the previous step" in " ".join(c.value for c in at5.caption)


def test_the_elbo_page_names_its_estimate(mnist_test):
    """The ELBO page's ELBO is a Monte-Carlo estimate: the page says from how many draws and which seed, and the
    figure it shows is that estimate (recomputed here from its own draws)."""
    from vae.objective import gaussian_log_normalizer, kl_to_standard_normal
    from ui.store import SWEEP_SAMPLES

    at = open_page("pages/elbo.py", "mnist-2d-sigma0.3", {"elbo_index": "0"})
    assert any(f"L = {SWEEP_SAMPLES} draws of z (seed 0)" in c.value for c in at.caption)
    model = shipped("mnist-2d-sigma0.3")
    x = mnist_test.images[[0, *range(256)]].flatten(1).float() / 255  # test #0, then the page's batch
    with torch.no_grad():
        mu, logvar = model.encode(x)
        eps = torch.randn((SWEEP_SAMPLES, *mu.shape), generator=torch.Generator().manual_seed(0))
        x_hat = model.decode(mu + eps * torch.exp(0.5 * logvar))
    recon = float((-((x[0] - x_hat[:, 0]) ** 2).sum(-1) / (2 * 0.09)).mean()) + gaussian_log_normalizer(784, 0.3)
    shown = next(m.value for m in at.metric if m.label.startswith("ELBO"))
    assert float(shown) == pytest.approx(recon - float(kl_to_standard_normal(mu, logvar)[0]), abs=0.011)


@pytest.mark.parametrize("model, words", [("mnist-2d-sigma0.3", "At d = 2 that is no shell"),
                                          ("mnist-16d-sigma0.3", "Most codes lie within τ of it")])
def test_the_generate_page_says_a_shell_only_where_there_is_one(model, words):
    """√d·τ is the codes' root-mean-square distance; a shell only for larger d (the numbers in
    test_the_generation_steps_words_on_code_lengths): the Generate page said "a shell" at d = 2 too."""
    at = open_page("pages/generate.py", model)
    caption = next(c.value for c in at.caption if "root-mean-square distance" in c.value)
    assert words in caption and "concentrates" not in caption
