"""Why q misses (pages/gaps.py): the split's table is vae.gaps.split's for the model, image and σ_dec on screen; the
test set's gaps are read from where they are kept (or computed for the session), their largest amortisation gaps
open in section 1; a d > 2 model's approximation gap is said to be from below; a grey-level Bernoulli model is
refused."""
from __future__ import annotations

import re

import pytest
import torch

from tests.support.app import keep_model, open_page
from vae import VAE, VAEConfig, catalog, checkpoint, gaps

pytestmark = pytest.mark.slow  # each page run splits a gap (ascents, a grid integral): seconds each
PAGE = "pages/gaps.py"


@pytest.fixture(autouse=True)
def data(mnist_dir):
    return mnist_dir


def ok(at):
    assert not at.exception, [e.value for e in at.exception]
    return at


def table(at) -> dict[str, tuple[float, float]]:
    """Section 1's table: quantity (its first words, without emphasis) → (nats, ± error) as shown."""
    text = next(m.value for m in at.markdown if m.value.startswith("| quantity |"))
    rows = {}
    for line in text.splitlines()[2:]:
        cells = [c.strip() for c in line.strip("|").split("|")]
        rows[cells[0].replace("**", "").replace("\\*", "*")] = (float(cells[2]), float(cells[3]))
    return rows


def refinement(at) -> dict[int, list[str]]:
    """Section 3's table: K → its cells after K."""
    text = next(m.value for m in at.markdown if m.value.startswith("| K |"))
    return {int(c[0]): c[1:] for c in ([x.strip() for x in line.strip("|").split("|")]
                                       for line in text.splitlines()[2:])}


def image(name: str, index: int, binarize: bool = False) -> torch.Tensor:
    from vae.data import load_dataset

    x = load_dataset("mnist", "test").to_float()[index]
    if binarize:
        from vae.evaluate import binarize_fixed

        x = binarize_fixed(load_dataset("mnist", "test").to_float())[index]
    return x


def model_of(name: str):
    from ui import store

    return checkpoint.load(store.SHIPPED_DIR / f"{name}{catalog.SUFFIX}").model


def assert_table_is(at, split: gaps.GapSplit) -> None:
    rows = table(at)
    expected = {"log p(x)": (split.log_px, split.log_px_error),
                "ELBO(q_φ), the encoder's q": (split.elbo_amortised, split.elbo_error),
                "ELBO(q*), the best Gaussian for this image": (split.elbo_optimal, split.elbo_error),
                "total gap log p(x) − ELBO(q_φ)": (split.total, split.total_error),
                "approximation gap log p(x) − ELBO(q*)": (split.approximation, split.approximation_error),
                "amortisation gap ELBO(q*) − ELBO(q_φ)": (split.amortisation, split.amortisation_error)}
    assert set(rows) == set(expected), rows
    for what, (value, error) in expected.items():
        assert rows[what][0] == pytest.approx(value, abs=2e-3), what
        assert rows[what][1] == pytest.approx(error, abs=2e-3), what


def test_the_split_on_screen_is_vae_gaps_split_and_moves_with_sigma_dec():
    """mnist-2d-sigma0.3, test #3: the table is vae.gaps.split of that image at σ_dec 0.3 (each figure and its error),
    the sentence under it says the same, section 3's gains are its refined ELBOs less ELBO(q_φ); σ_dec → 1.0 makes it
    the split at 1.0."""
    name, index = "mnist-2d-sigma0.3", 3
    model = model_of(name)
    at = ok(open_page(PAGE, name, {"gaps_index": str(index)}))
    assert at.session_state["gaps_index"] == index
    split = gaps.split(model, image(name, index), 0.3)
    assert_table_is(at, split)
    words = next(m.value for m in at.markdown if m.value.startswith("For this digit at σ_dec = 0.3"))
    assert f"by {split.total:.3f} nats: {split.approximation:.3f} because q is a diagonal Gaussian, " \
           f"{split.amortisation:.3f} because the encoder amortises" in words
    assert f"(the amortisation gap is {100 * split.amortisation / split.total:.0f} % of the total)" in words
    remedy = refinement(at)
    assert sorted(remedy) == sorted(gaps.REFINE_STEPS)
    for k, cells in remedy.items():
        gain = split.refined[k] - split.elbo_amortised
        assert float(cells[0]) == pytest.approx(gain, abs=2e-3), k
        assert cells[1] == f"{100 * gain / split.amortisation:.0f} %", k
    last = max(gaps.REFINE_STEPS)
    closed = 100 * (split.refined[last] - split.elbo_amortised) / split.amortisation
    assert any(f"here they close {closed:.0f} % of this image's gap" in c.value for c in at.caption)
    assert any("q*, the best diagonal Gaussian for this image, as green dotted ellipses around "
               f"({split.optimal_mu[0]:.2f}, {split.optimal_mu[1]:.2f})" in c.proto.alt for c in at.get("plotly_chart"))

    ok(at.select_slider(key="gaps_sigma").set_value(1.0).run())
    moved = gaps.split(model, image(name, index), 1.0)
    assert abs(moved.total - split.total) > 0.01  # it did move
    assert_table_is(at, moved)
    assert any(m.value.startswith("For this digit at σ_dec = 1 ") for m in at.markdown)


def test_a_16d_model_says_its_approximation_gap_is_from_below():
    """With no grid in 16-D, log p(x) is IWAE's lower bound and q* a local optimum: the page says so, and its table is
    still vae.gaps.split's."""
    name, index = "mnist-16d-sigma0.3", 0
    at = ok(open_page(PAGE, name, {"gaps_index": str(index)}))
    assert any("estimated from below" in i.value and "IWAE ≤ log p(x)" in i.value and "a local one" in i.value
               for i in at.info), [i.value for i in at.info]
    assert_table_is(at, gaps.split(model_of(name), image(name, index), 0.3))
    assert not at.get("plotly_chart") or all("Contours" not in c.proto.alt for c in at.get("plotly_chart"))


def test_a_bernoulli_model_on_grey_levels_is_refused():
    """log p(x) of a Bernoulli decoder on grey levels is no log-probability: the page says so and splits nothing."""
    grey = VAEConfig(latent_dim=2, hidden=(16,), likelihood="bernoulli")
    keep_model("grey-bernoulli", checkpoint.to_bytes(VAE(grey)))
    at = ok(open_page(PAGE, "grey-bernoulli"))
    assert any("trained on grey levels" in i.value and "has no meaning" in i.value for i in at.info)
    assert not any(m.value.startswith("| quantity |") for m in at.markdown)
    assert not at.get("plotly_chart")


def small_model(name: str, seed: int = 0, sigma: float = 0.3):
    """A small 16-D Gaussian model kept as the AppTest browser's own, and its checkpoint's file on this server (16-D:
    no grid integrals, which on an untrained model's wide posterior take the longest)."""
    from ui import store

    torch.manual_seed(seed)
    model = VAE(VAEConfig(latent_dim=16, hidden=(16,), sigma_dec=sigma)).eval()
    saved = keep_model(name, checkpoint.to_bytes(model))
    return model, store.saved_file(saved)


def test_kept_results_are_read_and_a_click_on_a_top_image_splits_it():
    """A model's test-set gaps kept beside its checkpoint (vae.gaps.results_path) are what the page reports: the
    headline means, medians and share; a click under one of the images with the largest amortisation gap makes it
    section 1's image, whose table is then its split."""
    from vae.data import load_dataset

    model, path = small_model("gaps-kept")
    test = load_dataset("mnist", "test")
    count = 6
    results = gaps.test_set(model, test.to_float()[:count], test.labels[:count].tolist(), range(count))
    gaps.save_results(gaps.results_path(path), results)
    splits = gaps.splits_of(results)
    head = gaps.summary(splits)

    at = ok(open_page(PAGE, "gaps-kept"))
    words = next(m.value for m in at.markdown if m.value.startswith("Over "))
    assert f"Over {count} test digits of gaps-kept at its trained σ_dec = 0.3" in words
    total = head["total"]
    assert f"the total gap is {total['mean']:.2f} nats on average (median {total['median']:.2f})" in words
    assert f"the amortisation gap {head['amortisation']['mean']:.2f} (median {head['amortisation']['median']:.2f})" \
           in words
    assert f"is the larger for {100 * head['amortisation_larger']:.0f} % of them" in words
    by_class = next(c for c in at.get("plotly_chart") if "Box plots" in c.proto.alt)
    assert f"of {count} test digits" in by_class.proto.alt

    largest = max(range(count), key=lambda i: splits[i].amortisation)
    picks = [b for b in at.button if (b.key or "").startswith("gaps_pick_")]
    assert picks[0].key == f"gaps_pick_{largest}" and len(picks) == count
    smallest = picks[-1].key.removeprefix("gaps_pick_")
    ok(at.button(key=f"gaps_pick_{smallest}").click().run())
    assert at.session_state["gaps_index"] == int(smallest)
    assert_table_is(at, gaps.split(model, test.to_float()[int(smallest)], 0.3))
    remedy = refinement(at)  # the test set's mean gain beside this image's
    mean = gaps.refinement_gains(splits)
    for k, cells in remedy.items():
        assert float(cells[2]) == pytest.approx(mean[k]["gain"], abs=2e-3), k


def test_without_kept_results_a_button_computes_them_for_the_session(monkeypatch):
    """A saved model has no test-set gaps: a button computes them for the first GAP_TEST_IMAGES test images (4 here),
    as vae.gaps.test_set does, and they stay for the session."""
    from ui import store
    from vae.data import load_dataset

    monkeypatch.setattr(store, "GAP_TEST_IMAGES", 4)
    model, _ = small_model("gaps-fresh", seed=1)
    at = ok(open_page(PAGE, "gaps-fresh"))
    assert not any(m.value.startswith("Over ") for m in at.markdown)
    ok(at.button(key="gaps_compute").click().run())
    test = load_dataset("mnist", "test")
    head = gaps.summary(gaps.splits_of(gaps.test_set(model, test.to_float()[:4], test.labels[:4].tolist(), range(4))))
    words = next(m.value for m in at.markdown if m.value.startswith("Over "))
    assert "Over 4 test digits of gaps-fresh" in words
    assert f"the approximation gap {head['approximation']['mean']:.2f}" in words
    ok(at.run())  # kept: no button, the same figures
    assert not [b for b in at.button if b.key == "gaps_compute"]
    assert words == next(m.value for m in at.markdown if m.value.startswith("Over "))


def test_the_sweeps_gaps_are_drawn_against_sigma_dec(monkeypatch, tmp_path):
    """The sweep's kept gaps, one file per member: each member's mean approximation and amortisation gap at its σ_dec,
    in σ_dec's order (here two small models stand in for the shipped sweep)."""
    from ui import store
    from vae.data import load_dataset

    test = load_dataset("mnist", "test")
    means = {}
    for sigma in (0.5, 0.2):
        torch.manual_seed(0)
        model = VAE(VAEConfig(latent_dim=16, hidden=(16,), sigma_dec=sigma)).eval()
        results = gaps.test_set(model, test.to_float()[:2], test.labels[:2].tolist(), range(2))
        gaps.save_results(tmp_path / "gaps" / f"member-{sigma}.json", results)
        splits = gaps.splits_of(results)
        means[sigma] = [gaps.spread(splits, g)["mean"] for g in ("approximation", "amortisation")]
    monkeypatch.setattr(store, "GAP_SWEEP", tmp_path)
    kept, path = small_model("gaps-sweep")
    count = 2
    gaps.save_results(gaps.results_path(path), gaps.test_set(kept, test.to_float()[:count],
                                                             test.labels[:count].tolist(), range(count)))
    at = ok(open_page(PAGE, "gaps-sweep"))
    alt = next(c.proto.alt for c in at.get("plotly_chart") if "against σ_dec (log axis)" in c.proto.alt)
    expected = "; ".join(f"σ_dec = {s:g}: {a:.2f} and {m:.2f} nats" for s, (a, m) in sorted(means.items()))
    assert expected in alt, alt
    assert any("16-D models" in c.value and "IWAE" in c.value for c in at.caption)


def test_the_comparison_with_cremer_et_al_describes_our_models_as_they_are():
    """The setup sentence: our shipped Gaussian models have one hidden layer and 50 epochs or fewer; the Bernoulli one
    is 784-512-512-50 on binarised MNIST, 500 epochs; and no number of the paper's table is quoted."""
    from ui import store

    infos = store.shipped_models()
    gaussian = [i.config for i in infos if i.config.likelihood == "gaussian"]
    assert gaussian and all(len(c.hidden) == 1 and c.epochs <= 50 for c in gaussian)
    assert {c.latent_dim for c in gaussian} == {2, 16}
    nll = next(i.config for i in infos if i.name == "mnist-bernoulli-50d")
    assert (nll.hidden, nll.latent_dim, nll.binarize, nll.epochs) == ((512, 512), 50, True, 500)
    text = (store.ROOT / PAGE).read_text()
    assert "784-512-512-50, 500 epochs" in text and "could not fetch the paper's table" in text
    assert not re.search(r"-8\d\.\d\d", text)  # no log p(x) of theirs (binarised MNIST's are −80 to −90 nats)
