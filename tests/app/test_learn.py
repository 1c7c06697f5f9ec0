"""The guided path, lesson links and the class's predictions, through AppTest: every step on 2-D, 16-D and
Fashion-MNIST models and on a drawing; each number in an equation equal to its vae/ function computed here; each
question's revealed answer computed here from the model; links that hold, lock and hide controls; lessons."""
import re

import numpy as np
import pytest
import torch

from classroom import Refused, classes, db, identity, lessons, polls
from tests.support import shipped
from tests.support.app import BROWSER_KEY, session
from vae.data import load_dataset

STEP_TITLES = ["The model", "The ELBO, by its definition", "The evidence and the gap", "The two gaps",
               "Reconstruction minus KL",
               "The Gaussian decoder and σ_dec", "L samples and z = μ + σ ⊙ ε",
               "The Gaussian KL, and the tutorial's misprint", "Training", "Generating new images",
               "Rate, distortion and collapse"]


@pytest.fixture(autouse=True)
def data(mnist_dir):
    return mnist_dir


def learn(model: str = "mnist-2d-sigma0.3", step: int = 1, query: dict | None = None, key: str = BROWSER_KEY):
    at = session(key)
    at.session_state["model"] = model
    at.query_params.update({"learn_step": str(step), **(query or {})})
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def latex(at) -> str:
    return " ".join(e.value for e in at.latex)


def numbers(text: str) -> list[float]:
    return [float(n.replace("{-}", "-")) for n in re.findall(r"\{-\}?\d+\.\d+|-?\d+\.\d+", text)]


def image(index: int = 0, dataset: str = "mnist") -> torch.Tensor:
    return load_dataset(dataset, "test").images[index].float().reshape(1, -1) / 255


@pytest.mark.parametrize("model", ["mnist-2d-sigma0.3", "mnist-16d-sigma0.3", "fashion-2d-sigma0.3"])
def test_every_step_draws_on_2d_16d_and_fashion_models(model):
    at = learn(model)
    for step, title in enumerate(STEP_TITLES, 1):
        assert at.number_input(key="learn_step").value == step
        assert any(title in p.text for p in at.get("progress")), title
        assert at.latex, f"step {step} shows its equation"
        if step < len(STEP_TITLES):
            at.button(key="learn_next").click().run()
            assert not at.exception, (step, [e.value for e in at.exception])
    assert at.button(key="learn_next").disabled


def lock(at, key: str, pick: str):
    at.radio(key=f"learn_pick_{key}").set_value(pick).run()
    at.button(key=f"learn_lock_{key}").click().run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def test_the_numbers_in_the_equations_are_vae_s():
    from vae.generate import mean_prior_norm, monte_carlo_elbo, prior_radius
    from vae.objective import (
        elbo_by_definition,
        kl_gaussians,
        kl_to_standard_normal,
        printed_kl,
    )

    model, x = shipped("mnist-2d-sigma0.3"), image(0)
    at = learn(step=1)
    with torch.no_grad():
        mu, logvar = model.encode(x)
    assert not any(f"{v:.2f}".replace("-", "{-}") in latex(at) for v in mu[0].tolist())  # not before the prediction
    lock(at, "model-norm", "Yes, ‖μ‖ < 1")
    assert f"{float(mu.norm()):.2f}" in latex(at)
    for value in mu[0].tolist():  # μ = (−0.23, −2.88)
        assert f"{value:.2f}".replace("-", "{-}") in latex(at)
    at.number_input(key="learn_step").set_value(2).run()
    eps = torch.randn(16, 2, generator=torch.Generator().manual_seed(0))
    est = elbo_by_definition(model, x, eps)
    terms = []  # the definition's terms, computed here: log p(x|z) + log p(z) − log q(z|x) at each z
    with torch.no_grad():
        z = mu + eps * torch.exp(0.5 * logvar)
        x_hat = model.decode(z).double()
    for k in range(16):
        zk = z[k].double()
        log_px_z = float(-((x[0].double() - x_hat[k]) ** 2).sum() / (2 * 0.09) - 392 * np.log(2 * np.pi * 0.09))
        log_pz = float(-0.5 * (zk ** 2).sum() - np.log(2 * np.pi))
        std = torch.exp(0.5 * logvar[0]).double()
        log_q = float((-0.5 * ((zk - mu[0].double()) / std) ** 2 - torch.log(std) - 0.5 * np.log(2 * np.pi)).sum())
        terms.append(log_px_z + log_pz - log_q)
    text = latex(at)
    assert f"{np.mean(terms):.2f} \\pm {np.std(terms, ddof=1) / 4:.2f}" in text  # the estimate ± s/√L
    for value in (est.reconstruction, est.kl_closed_form, est.decomposed):
        assert f"{value:.2f}".replace("-", "{-}") in text or f"{value:.3f}".replace("-", "{-}") in text
    assert est.definition == pytest.approx(est.reconstruction - est.kl_sampled, abs=1e-9)  # the same sum, regrouped
    captions = " ".join(c.value for c in at.caption)
    assert "L = 16 draws" in captions and "seed 0" in captions and "above log p(x)" in captions
    at.number_input(key="learn_step").set_value(5).run()
    mc = monte_carlo_elbo(model, x, 64, seed=0)
    assert f"{mc.elbo:.2f} \\pm {mc.log_px_given_z.std(ddof=1) / 8:.2f}" in latex(at) and f"{mc.kl:.3f}" in latex(at)
    at.number_input(key="learn_step").set_value(6).run()
    at.select_slider(key="learn_sigma").set_value(1.0).run()
    distortion = float(((x.double() - torch.from_numpy(mc.images)) ** 2).sum(1).mean())
    text = latex(at)
    assert f"{distortion:.2f}" in text  # E‖x − x̂‖², the squared error itself
    assert f"{-distortion / 2:.2f}".replace("-", "{-}") in text  # −E‖x − x̂‖²/2σ² at σ = 1
    assert f"{-392 * np.log(2 * np.pi):.2f}".replace("-", "{-}") in text  # −(D/2) log 2πσ²
    at.number_input(key="learn_step").set_value(7).run()
    mc = monte_carlo_elbo(model, x, 8, seed=0)
    assert f"{mc.elbo:.2f}" in latex(at) and f"{mc.z[0, 0]:.2f}".replace("-", "{-}") in latex(at)
    at.number_input(key="learn_step").set_value(8).run()
    zero = torch.zeros_like(mu)
    right = float(kl_to_standard_normal(mu, logvar)[0])
    assert float(kl_gaussians(mu, logvar, zero, zero)[0]) == pytest.approx(right, abs=1e-5)
    printed = float(printed_kl(mu, logvar)[0])
    assert f"{right:.4f}" in latex(at) and f"{printed:.4f}" in latex(at)
    assert abs(printed - right) > 0.1  # the printed formula shows another number for the same μ, σ
    variances = torch.exp(logvar[0]).double()
    excess = 0.5 * float(variances.prod() - variances.sum() + 2)  # ½(∏σᵢ² − Σσᵢ² + d)
    assert excess == pytest.approx(printed - right, abs=1e-4)
    assert f"here {excess:.4f} nats" in " ".join(c.value for c in at.caption)
    at.number_input(key="learn_step").set_value(10).run()
    codes = torch.randn(200_000, 2, generator=torch.Generator().manual_seed(1), dtype=torch.float64)
    assert float(codes.norm(dim=1).pow(2).mean().sqrt()) == pytest.approx(prior_radius(2, 1.0), abs=0.01)
    assert float(codes.norm(dim=1).mean()) == pytest.approx(mean_prior_norm(2, 1.0), abs=0.01)  # 1.25, not √2
    assert f"{prior_radius(2, 1.0):.2f}" in latex(at) and f"{mean_prior_norm(2, 1.0):.2f}" in latex(at)


def printed_identity(at) -> tuple[float, float, float]:
    """The evidence step's printed log p(x) = ELBO + KL, as three numbers."""
    line = next(e.value for e in at.latex if "&=" in e.value and "mathrm" not in e.value)
    return tuple(numbers(line))


def test_the_evidence_steps_identity_adds_up_to_the_grid_on_2d_and_iwae_on_16d():
    from vae.objective import iwae_log_px
    from vae.posterior import true_posterior

    at = learn(step=3)
    assert not [v for v in numbers(latex(at))]  # nothing to read before the prediction
    lock(at, "evidence-gap", "Under 1 nat")
    log_px, elbo, gap = printed_identity(at)
    assert log_px == pytest.approx(elbo + gap, abs=1e-9)  # it adds up as printed
    post = true_posterior(shipped("mnist-2d-sigma0.3"), image(0)[0], mc_samples=10_000, iw_samples=5000)
    assert log_px == pytest.approx(post.log_px_grid, abs=0.01) and gap == pytest.approx(post.kl_q_posterior_grid,
                                                                                        abs=0.002)
    assert elbo == pytest.approx(post.elbo, abs=0.05)  # the quadrature's ELBO against 10,000 draws'
    at = learn("mnist-16d-sigma0.3", step=3)  # no question here: the numbers are shown at once
    log_px, elbo, gap = printed_identity(at)
    assert log_px == pytest.approx(elbo + gap, abs=1e-9) and gap >= 0
    with torch.no_grad():
        others = [float(iwae_log_px(shipped("mnist-16d-sigma0.3"), image(0), 1000,
                                    generator=torch.Generator().manual_seed(seed))[0]) for seed in range(11, 21)]
    assert log_px == pytest.approx(np.mean(others), abs=4 * np.std(others, ddof=1) / np.sqrt(10) + 0.05)
    caption = " ".join(c.value for c in at.caption)
    assert "IWAE with K = 1,000" in caption and "in expectation" in caption


def printed_split(at) -> list[float]:
    """The two gaps step's printed split: log p(x), ELBO(q_φ), log p(x), ELBO(q*), ELBO(q*), ELBO(q_φ) on its first
    row, then the total, the approximation gap and the amortisation gap."""
    return numbers(next(e.value for e in at.latex if r"\big[" in e.value and "mathrm" not in e.value))


def holds_the_split(figures: list[float], split, digits: int) -> None:
    log_px, optimal, amortised = (round(v, digits) for v in (split.log_px, split.elbo_optimal, split.elbo_amortised))
    assert figures[:6] == [log_px, amortised, log_px, optimal, optimal, amortised]
    total, approximation, amortisation = figures[6:]
    assert total == pytest.approx(approximation + amortisation, abs=1e-9)  # it adds up as printed
    assert approximation == pytest.approx(split.approximation, abs=1.5 * 10 ** -digits)
    assert amortisation == pytest.approx(split.amortisation, abs=1.5 * 10 ** -digits)


@pytest.mark.slow
def test_the_two_gaps_step_shows_the_shipped_results_else_vae_gaps_split():
    """Step 4 on a test image among the shipped results reads them (after the prediction); on a drawing, and on a
    16-D model's test image beyond them, it shows what vae.gaps.split computes here."""
    from tests.support import ROOT
    from vae.gaps import load_results, results_path, split, splits_of

    at = learn(step=4)
    assert not numbers(latex(at))  # nothing to read before the prediction
    lock(at, "gaps-larger", "The amortisation gap")
    path = results_path(ROOT / "checkpoints" / "mnist-2d-sigma0.3.safetensors")
    shipped_split = splits_of(load_results(path))[0]
    holds_the_split(printed_split(at), shipped_split, 3)
    caption = " ".join(c.value for c in at.caption)
    assert "checkpoints/gaps/mnist-2d-sigma0.3.json: its first 500 test images" in caption
    assert load_results(path)["images"] == 500
    assert f"Approximation gap ± {shipped_split.approximation_error:.4f}" in caption
    assert f"amortisation gap ± {shipped_split.amortisation_error:.4f} nats" in caption

    drawing = np.zeros((28, 28), np.float32)
    drawing[6:22, 12:16] = 1.0
    at.session_state["draw_framed"] = drawing
    at.run()
    at.radio(key="learn_source").set_value("your drawing").run()
    assert not at.exception, [e.value for e in at.exception]
    holds_the_split(printed_split(at), split(shipped("mnist-2d-sigma0.3"), torch.from_numpy(drawing), 0.3), 3)
    assert "Computed now for this image" in " ".join(c.value for c in at.caption)

    at = learn("mnist-16d-sigma0.3", step=4, query={"learn_index": "600"})  # no question: the numbers at once
    holds_the_split(printed_split(at), split(shipped("mnist-16d-sigma0.3"), image(600), 0.3), 2)
    assert "only for a 2-D model" in " ".join(c.value for c in at.caption)


def test_the_two_gaps_question_counts_both_answers_only_within_their_errors():
    from ui.learn.steps import gaps
    from vae.gaps import GapSplit

    def split(approximation, amortisation, error=0.001):
        return GapSplit(10.0, 0.0, "grid", 10 - approximation - amortisation, 10 - approximation, error, error,
                        *[np.zeros(2)] * 4, 0.3)

    assert gaps.larger(split(0.1, 2.0)) == (gaps.AMORTISATION,)
    assert gaps.larger(split(2.0, 0.1)) == (gaps.APPROXIMATION,)
    margin = gaps.TIE_NATS + gaps.TIE_ERRORS * (0.001 + 0.001)  # each gap's error 0.001 (log p(x)'s is 0 here)
    assert gaps.larger(split(0.3, 0.3 + 0.99 * margin)) == (gaps.AMORTISATION, gaps.APPROXIMATION)
    assert gaps.larger(split(0.3 + 0.99 * margin, 0.3)) == (gaps.APPROXIMATION, gaps.AMORTISATION)
    assert gaps.larger(split(0.3, 0.3 + 1.01 * margin)) == (gaps.AMORTISATION,)


def predict_and_reveal(at, key: str, pick: str):
    lock(at, key, pick)
    at.toggle(key=f"learn_reveal_{key}").set_value(True).run()
    assert not at.exception, [e.value for e in at.exception]
    return " ".join(m.value for m in [*at.success, *at.warning])


@pytest.mark.slow
def test_each_questions_revealed_answer_is_graded_in_the_page():
    """Through the page, on test #0: a wrong prediction is told the right answer, a right one "Right". (Each answer
    is held to an independent computation over hundreds of images in test_learn_answers.)"""
    from ui.learn.steps import STEPS

    def predicted(step: int, pick: str) -> str:
        at = learn(step=step)
        if step == 9:
            at.button(key="learn_train").click().run()
        return predict_and_reveal(at, STEPS[step - 1].question.key, pick)

    for step, question in enumerate((s.question for s in STEPS), 1):
        said = predicted(step, question.options[0])
        answer = re.search(r"(?:Right: |the answer is )(.+?)\. ", said).group(1)
        assert answer in question.options, (step, said)
        if answer == question.options[0]:
            assert said.startswith("Right"), (step, said)
        else:
            assert said.startswith("Not this time"), (step, said)
            assert predicted(step, answer).startswith("Right"), step


def test_a_prediction_is_graded_on_the_image_it_was_made_on():
    at = learn(step=1, query={"learn_index": "0"})  # test #0: ‖μ‖ = 2.89
    lock(at, "model-norm", "No, ‖μ‖ ≥ 1")
    at.number_input(key="learn_index").set_value(3).run()  # another image afterwards
    at.toggle(key="learn_reveal_model-norm").set_value(True).run()
    assert "Right: No, ‖μ‖ ≥ 1" in " ".join(s.value for s in at.success)  # graded on test #0
    assert any("You predicted for test #0" in c.value for c in at.caption)
    at.button(key="learn_again_model-norm").click().run()
    assert at.button(key="learn_lock_model-norm") and not at.toggle  # a new prediction first, on test #3


def test_the_path_works_on_a_drawing():
    drawing = np.zeros((28, 28), np.float32)
    drawing[6:22, 12:16] = 1.0  # a "1"
    at = session()
    at.session_state["draw_framed"] = drawing
    at.query_params.update({"learn_step": "8"})
    at.run()
    at.radio(key="learn_source").set_value("your drawing").run()
    assert not at.exception
    from vae.objective import kl_to_standard_normal

    with torch.no_grad():
        mu, logvar = shipped("mnist-2d-sigma0.3").encode(torch.from_numpy(drawing).reshape(1, -1))
    assert f"{float(kl_to_standard_normal(mu, logvar)[0]):.4f}" in latex(at)


def test_a_link_holds_locks_and_hides_its_controls_however_the_page_is_driven():
    query = {"model": "mnist-2d-sigma1.0", "elbo_sigma": "0.5", "hide": "elbo_sigma,elbo_unit", "lock": "model",
             "view": "lesson"}
    at = session()
    at.query_params.update(query)
    at.switch_page("pages/elbo.py").run()
    assert not at.exception
    assert at.select_slider(key="elbo_sigma").value == 0.5
    assert at.sidebar.selectbox(key="model").disabled and at.sidebar.selectbox(key="model").value == "mnist-2d-sigma1.0"
    css = " ".join(h.value for h in at.get("html"))
    assert ".st-key-elbo_sigma" in css and ".st-key-elbo_unit" in css and "stSidebar" in css
    at.select_slider(key="elbo_sigma").set_value(2.0).run()  # as a page edited in the browser would send it
    assert at.select_slider(key="elbo_sigma").value == 0.5  # held
    from streamlit.testing.v1.errors import AppTestError

    with pytest.raises(AppTestError, match="disabled"):  # locked: disabled, and Streamlit drops a forged value
        at.sidebar.selectbox(key="model").set_value("mnist-2d-sigma0.3")
    at.session_state["model"] = "mnist-2d-sigma0.3"  # even set from code, the next run holds the link's model
    at.run()
    assert at.sidebar.selectbox(key="model").value == "mnist-2d-sigma1.0"
    at.select_slider(key="elbo_sigma").set_value(2.0).run()
    assert next(m.value for m in at.metric if m.label == "equivalent β = 2σ²") == "0.5"  # 2 × 0.5²


def test_a_bad_value_in_a_link_is_ignored_with_a_notice():
    at = session()
    at.query_params.update({"learn_step": "99", "drawing": "not-a-drawing"})
    at.run()
    assert not at.exception
    assert at.number_input(key="learn_step").value == 1
    assert any("learn_step" in t.value for t in at.toast) and any("drawing" in t.value for t in at.toast)


def test_share_this_view_gives_every_setting_defaults_too_and_the_drawing():
    from ui.links import decode_drawing

    drawing = np.zeros((28, 28), np.float32)
    drawing[10:18, 10:18] = 0.5
    at = session()
    at.session_state["draw_framed"] = drawing
    at.query_params.update({"elbo_sigma": "0.5"})
    at.switch_page("pages/reparameterisation.py").run()
    at.checkbox(key="share_lock").check().run()
    at.multiselect(key="share_hide").set_value(["sampling_l"]).run()
    link = next(c.value for c in at.sidebar.code if "model=" in c.value)
    from urllib.parse import parse_qs, urlsplit

    parts = urlsplit(link)
    query = {k: v[0] for k, v in parse_qs(parts.query).items()}
    assert parts.path.endswith("/reparameterisation")
    assert query["model"] == "mnist-2d-sigma0.3" and query["dataset"] == "MNIST"  # defaults too
    assert query["sampling_l"] == "8" and query["sampling_index"] == "0" and query["sampling_seed"] == "0"
    assert query["lock"] == "model" and query["hide"] == "sampling_l"
    np.testing.assert_allclose(decode_drawing(query["drawing"]), np.round(drawing * 255) / 255)


def test_a_teachers_lesson_is_stepped_through_with_back_and_next():
    engine = db.engine()
    teacher = identity.of_browser(BROWSER_KEY)
    at = session()
    at.switch_page("pages/lesson.py").run()
    at.text_input(key="lesson_title").set_value("σ_dec in three steps")
    at.text_area(key="lesson_steps").set_value(
        "http://x:8501/elbo?elbo_sigma=0.1&view=lesson | Where is σ*?\n"
        "http://x:8501/elbo?elbo_sigma=1 | And now?\n"
        "/?learn_step=5 | Predict, then reveal.")
    at.form_submit_button[0].click().run()
    assert not at.exception
    (lesson,) = lessons.by_owner(engine, teacher)
    assert [s["link"] for s in lesson.steps] == ["/elbo?elbo_sigma=0.1&view=lesson", "/elbo?elbo_sigma=1",
                                                 "/?learn_step=5"]
    student = session("s" * 43)
    student.query_params.update({"elbo_sigma": "1", "lesson": lesson.code, "lesson_step": "2"})
    student.switch_page("pages/elbo.py").run()
    bar = " ".join(m.value for m in student.markdown)
    assert "step 2 of 3" in " ".join(c.value for c in student.caption) and "And now?" in bar
    assert f"lesson={lesson.code}&amp;lesson_step=1" in bar and f"lesson={lesson.code}&amp;lesson_step=3" in bar
    for bad in ("|no link", "javascript:alert(1) | x", "http://x/../../etc | y"):
        with pytest.raises(Refused):
            lessons.create(engine, teacher, "Bad", [dict(zip(("link", "note"), (p.strip() for p in bad.split("|"))))])


def test_the_class_predicts_before_the_teacher_reveals_to_all():
    engine = db.engine()
    teacher_key, student_key = "T" * 43, "s" * 43
    klass, _ = classes.create(engine, identity.of_browser(teacher_key), "Peer instruction")
    classes.join(engine, klass, identity.of_browser(student_key), "Sam")
    at = learn(step=8, key=student_key)
    at.radio(key="learn_pick_kl-printed").set_value("0").run()
    at.radio(key="learn_sure_kl-printed").set_value(3).run()
    at.button(key="learn_lock_kl-printed").click().run()
    assert polls.answers_of(engine, klass) == {"kl-printed": {"0": 1}}
    assert any("reveals the answer" in i.value for i in at.info) and not at.success and not at.warning
    teacher = session(teacher_key)
    teacher.query_params.update({"class": klass.code})
    teacher.switch_page("pages/class.py").run()
    import json

    (bars,) = [json.loads(b.proto.spec) for b in teacher.get("plotly_chart") if "students" in b.proto.spec]
    assert bars["data"][0]["x"] == [1, 0, 0, 0] and bars["layout"]["yaxis"]["type"] == "category"
    teacher.button(key=f"reveal_{klass.id}_kl-printed").click().run()
    assert polls.revealed(engine, klass, "kl-printed")
    at.run()
    assert any("the answer is ½" in w.value for w in at.warning)
