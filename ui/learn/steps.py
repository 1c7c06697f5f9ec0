"""The ten steps of the path, in the tutorial's order. Every number in an equation comes from the vae/ function
that owns it; every question's answer is computed from the model at hand."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np
import streamlit as st
import torch

from ui import charts, images, metrics, plots, store
from ui.learn import Context, number, vector
from ui.learn.questions import Question, ask

EPS_SEED = 0  # the draws ε of the equations' Monte-Carlo estimates


@dataclass(frozen=True)
class Step:
    key: str
    title: str
    draw: Callable  # (Context) -> None


def posterior_of(ctx):
    """(μ, σ) of q(z|x) as numpy."""
    with torch.no_grad():
        mu, logvar = ctx.model.encode(ctx.tensor)
    return mu[0].double().numpy(), torch.exp(0.5 * logvar[0]).double().numpy()


def eps(ctx, samples: int) -> torch.Tensor:
    return torch.randn(samples, ctx.config.latent_dim, generator=torch.Generator().manual_seed(EPS_SEED))


def picture(column, image, caption: str, scale: int = 4) -> None:
    column.image(images.data_uri(images.enlarge(images.to_uint8(np.asarray(image).reshape(28, 28)), scale)),
                 caption=caption, width=28 * scale)


# 1 ------------------------------------------------------------------------------------------------- the model

def the_model(ctx: Context) -> None:
    mu, sigma = posterior_of(ctx)
    d, config = ctx.config.latent_dim, ctx.config
    st.markdown("Three distributions make a VAE: a prior over codes, an encoder's guess of the code behind an image, "
                "and a decoder's distribution of images given a code.")
    st.latex(rf"p(z) = \mathcal{{N}}(0, I_{{{d}}}) \qquad q_\phi(z|x) = \mathcal{{N}}\big(\mu, \operatorname{{diag}}"
             rf"\sigma^2\big),\ \ \mu = {vector(mu)},\ \ \sigma = {vector(sigma, digits=3)}")
    if config.likelihood == "gaussian":
        st.latex(rf"p_\theta(x|z) = \mathcal{{N}}\big(\mathrm{{decode}}(z), \sigma_{{dec}}^2 I_{{{config.data_dim}}}\big),"
                 rf"\ \ \sigma_{{dec}} = {config.sigma_dec:g}")
    else:
        st.latex(rf"p_\theta(x|z) = \prod_{{d=1}}^{{{config.data_dim}}} \mathrm{{Bernoulli}}\big(x_d;\ "
                 r"\mathrm{decode}(z)_d\big)")
    with torch.no_grad():
        recon = ctx.model.decode(torch.from_numpy(mu).float()[None])[0].numpy()
    columns = st.columns(3)
    picture(columns[0], ctx.x, f"x, {ctx.image_name}")
    picture(columns[1], recon, "decode(μ): the decoder's mean at the encoder's μ")
    columns[2].caption("Try: another test image, or draw your own on the Draw page and choose it above: μ moves, "
                       "σ says how sure the encoder is.")
    ask(MODEL_NORM, ctx)


# 2 ------------------------------------------------------------------------------------------ the ELBO's definition

def definition(ctx: Context, samples: int):
    from vae.objective import elbo_by_definition

    return elbo_by_definition(ctx.model, ctx.tensor, eps(ctx, samples))


def the_definition(ctx: Context) -> None:
    samples = st.slider("L, samples of z", 1, 256, 16, key="learn_l", bind="query-params", persist_state="session")
    est = definition(ctx, samples)
    st.markdown("The evidence lower bound is an expectation under q of the log ratio of the joint to q:")
    st.latex(r"\mathrm{ELBO}(x) = \mathbb{E}_{q_\phi(z|x)}\Big[\log \frac{p_\theta(x, z)}{q_\phi(z|x)}\Big] \approx "
             rf"\frac{{1}}{{L}}\sum_{{l=1}}^{{{samples}}} \log \frac{{p_\theta(x|z^{{(l)}})\,p(z^{{(l)}})}}"
             rf"{{q_\phi(z^{{(l)}}|x)}} = {number(est.definition)}")
    st.latex(rf"= \underbrace{{{number(est.reconstruction)}}}_{{\frac{{1}}{{L}}\sum \log p_\theta(x|z^{{(l)}})}}"
             rf" - \underbrace{{{number(est.kl_sampled, 3)}}}_{{\frac{{1}}{{L}}\sum \log \frac{{q(z^{{(l)}}|x)}}"
             rf"{{p(z^{{(l)}})}}}} = {number(est.reconstruction - est.kl_sampled)}")
    st.latex(rf"\text{{with the closed-form KL}} = {number(est.kl_closed_form, 3)}:\quad "
             rf"{number(est.reconstruction)} - {number(est.kl_closed_form, 3)} = {number(est.decomposed)}")
    st.caption(f"The same {samples} draws z⁽ˡ⁾ = μ + σ ⊙ ε⁽ˡ⁾ in every line: the definition's average and the "
               "reconstruction minus the sampled KL are one sum, regrouped. Training uses the last line: the KL in "
               "closed form, equal in expectation.")
    st.caption("Try: move L. With L = 1 the sampled KL is one draw's log q/p(z); as L grows it settles on the "
               "closed form.")
    ask(DEFINITION_KL, ctx)


# 3 --------------------------------------------------------------------------------------- the evidence and the gap

def evidence(ctx: Context) -> dict:
    """log p(x) and the ELBO of this image: by the grid for a 2-D model (test images through the page cache), else
    IWAE with K = 1,000 (a lower bound on log p(x), so the gap shown is a lower bound on the true gap)."""
    from vae.objective import elbo, iwae_log_px

    seeded = lambda: torch.Generator().manual_seed(EPS_SEED)  # noqa: E731  (each estimate its own draws)
    with torch.no_grad():
        lower = float(elbo(ctx.model, ctx.tensor, samples=1000, generator=seeded()).elbo[0])
    if ctx.config.latent_dim == 2:
        from vae.posterior import true_posterior

        if ctx.index is not None:
            post = store.true_posterior_for(ctx.info, ctx.index, ctx.config.sigma_dec)
        else:
            post = true_posterior(ctx.model, ctx.tensor[0], mc_samples=1000, iw_samples=10)
        return {"log_px": post.log_px_grid, "elbo": post.elbo, "gap": post.kl_q_posterior_grid, "how": "grid"}
    with torch.no_grad():
        log_px = float(iwae_log_px(ctx.model, ctx.tensor, 1000, generator=seeded())[0])
    return {"log_px": log_px, "elbo": lower, "gap": log_px - lower, "how": "iwae"}


def the_evidence(ctx: Context) -> None:
    found = evidence(ctx)
    st.markdown("log p(x) is the **evidence**, the probability the model gives the image (the tutorial calls it "
                "\"the prior\": it is not). The ELBO falls short of it by exactly how far q is from the true "
                "posterior:")
    st.latex(rf"\log p_\theta(x) = \mathrm{{ELBO}}(x) + \mathrm{{KL}}\big(q_\phi(z|x)\,\|\,p_\theta(z|x)\big)"
             rf"\qquad {number(found['log_px'])} = {number(found['elbo'])} + {number(found['gap'], 3)}")
    st.caption("log p(x) by a grid integral over the latent plane, the KL by quadrature (True posterior page)."
               if found["how"] == "grid" else
               "log p(x) by IWAE with K = 1,000 (a lower bound: the gap shown is a lower bound too); the ELBO with "
               "1,000 samples.")
    if ctx.config.latent_dim == 2 and ctx.config.likelihood == "gaussian":
        st.page_link("pages/posterior.py", label="See p(z|x) beside q on the True posterior page",
                     icon=":material/blur_on:")

    st.caption("Try: other test images; some fit q's Gaussian shape well (a gap of a tenth of a nat), some do not.")
    ask(EVIDENCE_GAP, ctx)


# 4 --------------------------------------------------------------------------------------------- the decomposition

def parts(ctx: Context, sigma: float | None = None):
    from vae.objective import elbo

    with torch.no_grad():
        return elbo(ctx.model, ctx.tensor, samples=64, sigma_dec=sigma,
                    generator=torch.Generator().manual_seed(EPS_SEED), with_distortion=True)


def the_decomposition(ctx: Context) -> None:
    p = parts(ctx)
    st.markdown("Written the way it is computed: how well decoded codes explain the image, minus how far q strays "
                "from the prior.")
    st.latex(rf"\mathrm{{ELBO}}(x) = \underbrace{{\mathbb{{E}}_q[\log p_\theta(x|z)]}}_{{{number(float(p.reconstruction))}}}"
             rf" - \underbrace{{\mathrm{{KL}}\big(q_\phi(z|x)\,\|\,p(z)\big)}}_{{{number(float(p.kl), 3)}}}"
             rf" = {number(float(p.elbo))}")
    metrics.row([("Reconstruction term", f"{float(p.reconstruction):.2f}", "64 samples of z"),
                 ("KL to the prior", f"{float(p.kl):.3f}", "closed form"), ("ELBO", f"{float(p.elbo):.2f}")])
    st.caption("Try: a drawing the model finds odd (the Draw page) has a lower reconstruction term, and often a "
               "larger KL.")
    ask(DECOMPOSITION_LARGER, ctx)


# 5 ------------------------------------------------------------------------------------- the Gaussian decoder, σ_dec

def sweep_rates() -> dict[float, float]:
    from ui.sweep_view import sigma_sweep

    found = sigma_sweep()
    return {p["value"]: p["rate"] for p in found[1]["points"]} if found else {}


def the_decoder(ctx: Context) -> None:
    config = ctx.config
    if config.likelihood != "gaussian":
        st.info("This model has a Bernoulli decoder: no σ_dec. Choose a Gaussian model in the sidebar for this step.")
        return
    sigma = st.select_slider("σ_dec", store.SIGMA_CHOICES, config.sigma_dec if config.sigma_dec in store.SIGMA_CHOICES
                             else 0.3, key="learn_sigma", bind="query-params", persist_state="session")
    p = parts(ctx, float(sigma))
    d = config.data_dim
    st.markdown("With a Gaussian decoder the reconstruction term is a squared error and a constant — the term the "
                "tutorial says \"you can ignore\", true only while σ_dec stays fixed:")
    st.latex(rf"\log p_\theta(x|z) = -\frac{{\|x - \hat x\|^2}}{{2\sigma_{{dec}}^2}} - \frac{{{d}}}{{2}}"
             rf"\log(2\pi\sigma_{{dec}}^2) \ \Rightarrow\ \underbrace{{{number(float(p.squared_error))}}}_{{\text{{squared error}}}}"
             rf" + \underbrace{{{number(float(p.constant))}}}_{{\text{{constant}}}} = {number(float(p.reconstruction))}"
             rf"\quad (\sigma_{{dec}} = {float(sigma):g})")
    st.caption(f"The model was trained at σ_dec = {config.sigma_dec:g}; its KL ({float(p.kl):.3f} nats) does not "
               "move with σ_dec here, because q does not. A model trained at another σ_dec has another KL: the "
               "question asks which way.")
    st.caption("Try: move σ_dec. A small σ_dec makes the squared error harsh and the constant large; a large one "
               "forgives errors but pays in the constant.")
    if sweep_rates():
        ask(DECODER_SIGMA_KL, ctx)


# 6 --------------------------------------------------------------------- L samples and the reparameterisation

def spread_ratio(ctx: Context) -> float:
    from vae.generate import estimate_spread

    spread = store.estimate_spread_for(ctx.info, ctx.index) if ctx.index is not None else \
        estimate_spread(ctx.model, ctx.tensor)
    return spread[4][0] / spread[16][0]


def the_sampling(ctx: Context) -> None:
    from vae.generate import monte_carlo_elbo

    samples = st.slider("L, samples of ε", 1, 64, 8, key="learn_l6", persist_state="session")
    mc = monte_carlo_elbo(ctx.model, ctx.tensor, samples, seed=EPS_SEED)
    st.markdown("The expectation is estimated with L draws, each written as μ + σ ⊙ ε so that the gradient flows "
                "through μ and σ (the reparameterisation):")
    st.latex(rf"z^{{(1)}} = \mu + \sigma \odot \varepsilon^{{(1)}} = {vector(mc.mu)} + {vector(mc.sigma, digits=3)}"
             rf" \odot {vector(mc.eps[0])} = {vector(mc.z[0])}")
    st.latex(rf"\mathcal{{L}} = \frac{{1}}{{L}}\sum_{{l=1}}^{{{samples}}} \log p_\theta(x|z^{{(l)}}) - \mathrm{{KL}} = "
             rf"{number(mc.reconstruction)} - {number(mc.kl, 3)} = {number(mc.elbo)}")
    st.page_link("pages/reparameterisation.py", label="See the samples inside q's ellipses", icon=":material/casino:")

    st.caption("Try: move L and watch the estimate settle; each z⁽ˡ⁾ is decoded and scored.")
    ask(SAMPLING_SPREAD, ctx)


# 7 ---------------------------------------------------------------------------------- the Gaussian KL and the misprint

def kls(ctx: Context):
    from vae.objective import kl_gaussians, kl_to_standard_normal, printed_kl

    with torch.no_grad():
        mu, logvar = ctx.model.encode(ctx.tensor)
        zero = torch.zeros_like(mu)
        return (float(kl_gaussians(mu, logvar, zero, zero)[0]), float(kl_to_standard_normal(mu, logvar)[0]),
                float(printed_kl(mu, logvar)[0]))


def the_kl(ctx: Context) -> None:
    general, simplified, printed = kls(ctx)
    d = ctx.config.latent_dim
    st.markdown("Between two diagonal Gaussians the KL has a closed form; with the prior N(0, I) it simplifies:")
    st.latex(r"\mathrm{KL}\big(\mathcal{N}(\mu_0, \sigma_0^2)\,\|\,\mathcal{N}(\mu_1, \sigma_1^2)\big) = \tfrac12 "
             r"\sum_i \Big(\frac{\sigma_{0i}^2}{\sigma_{1i}^2} + \frac{(\mu_{1i} - \mu_{0i})^2}{\sigma_{1i}^2} - 1 + "
             rf"\log\frac{{\sigma_{{1i}}^2}}{{\sigma_{{0i}}^2}}\Big) = {number(general, 4)}")
    st.latex(rf"\mu_1 = 0,\ \sigma_1 = 1:\quad \tfrac12 \sum_{{i=1}}^{{{d}}} \big(\sigma_i^2 + \mu_i^2 - 1 - "
             rf"\log \sigma_i^2\big) = {number(simplified, 4)}")
    st.markdown("The tutorial prints it, for q = N(μ, σ²I), as below — a power where a sum belongs, and the −d "
                "missing. On this image's μ and σ:")
    st.latex(rf"\text{{printed: }}\tfrac12\big((\sigma^2)^{{d}} + \mu^\top\mu - d\log\sigma^2\big) = {number(printed, 4)}"
             rf"\quad \ne\quad {number(simplified, 4)}")
    st.caption("Try: another image. The two formulas never agree; the difference is ½(∏ᵢσᵢ² − Σᵢσᵢ² + d).")
    ask(KL_PRINTED, ctx)


def printed_at_the_prior(ctx: Context):
    from vae.objective import printed_kl

    value = float(printed_kl(torch.zeros(1, ctx.config.latent_dim), torch.zeros(1, ctx.config.latent_dim))[0])
    options = {"0": 0.0, "½": 0.5, "d/2": ctx.config.latent_dim / 2, "1": 1.0}
    return min(options, key=lambda k: abs(options[k] - value)), f"It gives {value:g}: 1^d = 1 where Σᵢ σᵢ² = d belongs."


# 8 -------------------------------------------------------------------------------------------------------- training

TRAIN_STEPS, TRAIN_CHUNK = 300, 25


def train_short(ctx: Context) -> list[dict]:
    """A fresh model of this dataset (2-D, this σ_dec) trained TRAIN_STEPS steps on 2,000 training images, with a
    progress bar; its history [{step, elbo, reconstruction, kl}] every TRAIN_CHUNK steps."""
    from vae.config import VAEConfig
    from vae.train import Trainer

    config = VAEConfig(dataset=ctx.config.dataset, latent_dim=2, hidden=(256,), sigma_dec=ctx.config.sigma_dec
                       if ctx.config.likelihood == "gaussian" else 0.3, seed=0)
    train, _ = store.dataset(ctx.config.dataset, "train")
    trainer = Trainer(config, train.images[:2000].flatten(1), device="cpu")
    bar, history = st.progress(0.0, text="Training…"), []
    for _ in range(TRAIN_STEPS // TRAIN_CHUNK):
        m = trainer.run(TRAIN_CHUNK)
        history.append({"step": m.step, "elbo": m.elbo, "reconstruction": m.reconstruction, "kl": m.kl})
        bar.progress(m.step / TRAIN_STEPS, text=f"Training: step {m.step} of {TRAIN_STEPS}, ELBO {m.elbo:.1f}")
    bar.empty()
    return history


def the_training(ctx: Context) -> None:
    state = st.session_state
    st.markdown("Training climbs the ELBO averaged over a batch, by gradient steps on the encoder's φ and the "
                "decoder's θ together:")
    st.latex(r"(\theta, \phi) \leftarrow (\theta, \phi) + \eta\, \nabla_{\theta,\phi}\, \frac{1}{B}\sum_{b=1}^{B}"
             r"\Big(\frac1L\sum_l \log p_\theta(x_b|z_b^{(l)}) - \mathrm{KL}\big(q_\phi(z|x_b)\,\|\,p(z)\big)\Big)")
    key = f"learn_history_{ctx.config.dataset}"
    if st.button(f"Train a 2-D model for {TRAIN_STEPS} steps (a few seconds)", key="learn_train"):
        state[key] = train_short(ctx)
    history = state.get(key)
    if history:
        first, last = history[0], history[-1]
        st.latex(rf"\text{{step {first['step']}: ELBO}} = {number(first['elbo'])},\ \mathrm{{KL}} = {number(first['kl'])}"
                 rf"\qquad \text{{step {last['step']}: ELBO}} = {number(last['elbo'])},\ \mathrm{{KL}} = {number(last['kl'])}")
        left, right = st.columns(2)
        for column, (caption, spec) in zip((left, right), plots.curve_panels(history)):
            column.caption(caption)
            column.vega_lite_chart(spec=spec, width="stretch")
        st.page_link("pages/train.py", label="Train live, with play, pause and every setting",
                     icon=":material/model_training:")

    st.caption("Try: predict first, then press Train and watch both curves.")
    ask(TRAINING_KL, ctx)


# 9 ------------------------------------------------------------------------------------------------------ generation

def samples_spread(ctx: Context, tau: float) -> float:
    """Mean over pixels of the standard deviation across 48 prior samples' images at temperature τ."""
    from vae.generate import images_from_codes, prior_codes

    return float(images_from_codes(ctx.model, prior_codes(48, ctx.config.latent_dim, tau, seed=0)).std(0).mean())


def the_generation(ctx: Context) -> None:
    from vae.generate import images_from_codes, prior_codes, prior_radius

    tau = st.slider("Temperature τ", 0.1, 2.0, 1.0, 0.1, key="learn_tau", bind="query-params", persist_state="session")
    z = prior_codes(24, ctx.config.latent_dim, float(tau), seed=0)
    st.markdown("A VAE generates by drawing a code from the prior and decoding it:")
    st.latex(rf"z \sim \mathcal{{N}}(0, \tau^2 I),\ \ x = \mathrm{{decode}}(z);\qquad \tau = {float(tau):g}:\ "
             rf"\|z\| \approx \sqrt{{d}}\,\tau = {number(prior_radius(ctx.config.latent_dim, float(tau)))}")
    grid = images_from_codes(ctx.model, z).numpy().reshape(3, 8, 28, 28)
    st.image(images.data_uri(images.enlarge(images.to_uint8(plots.tile(grid, pad=1)), 2)),
             caption=f"24 samples at τ = {float(tau):g}")
    st.caption("Try: move τ from 0.1 to 2: the samples go from one blurry average to varied, then strange.")
    ask(GENERATION_TAU, ctx)


# 10 ------------------------------------------------------------------------------------- rate, distortion, collapse

def the_rate(ctx: Context) -> None:
    from ui.sweep_view import sigma_sweep
    from vae.sweep import collapse_value

    found = sigma_sweep()
    if found is None:
        st.info("No sweep over σ_dec is shipped in checkpoints/sweeps/: this step needs one.")
        return
    folder, results = found
    points = results["points"]
    st.markdown("With σ_dec fixed, maximising the ELBO is minimising a distortion plus 2σ² times a rate: each σ_dec "
                "picks one trade-off, and past some σ_dec the code carries nothing at all.")
    st.latex(r"-\mathrm{ELBO} = \frac{\|x - \hat x\|^2}{2\sigma_{dec}^2} + \mathrm{KL}(q\,\|\,p) + \text{const} "
             r"\ \propto\ D + 2\sigma_{dec}^2 R")
    charts.show(plots.rate_distortion(points, results["parameter"], None, collapse_value(results)),
                f"{folder.name} · rate against distortion", key="learn_rate_chart")
    st.page_link("pages/rate_distortion.py", label="Open the sweep's models on the Rate–distortion page",
                 icon=":material/show_chart:")
    st.caption("Try: open a member of the sweep on the Rate–distortion page and see its latent space shrink to "
               "nothing as σ_dec grows.")
    if any(p["value"] == 2.0 for p in points):
        ask(RATE_ACTIVE, ctx)


# The questions: predict first, then the answer from the model's own numbers ------------------------------------

def norm_answer(c):
    norm = float(np.linalg.norm(posterior_of(c)[0]))
    return ("Yes, ‖μ‖ < 1" if norm < 1 else "No, ‖μ‖ ≥ 1"), f"‖μ‖ = {norm:.2f} for {c.image_name}."


def definition_answer(c):
    one, many = definition(c, 1), definition(c, 256)
    off_one, off_many = abs(one.kl_sampled - one.kl_closed_form), abs(many.kl_sampled - many.kl_closed_form)
    return ("Yes, closer" if off_many < off_one else "No, not closer",
            f"Off by {off_one:.3f} nats with L = 1, {off_many:.3f} with L = 256.")


def gap_answer(c):
    from vae.posterior import posterior_gap

    if c.config.latent_dim == 2 and c.config.likelihood == "gaussian":
        gap, what = posterior_gap(c.model, c.tensor[0], c.config.sigma_dec), "KL(q ‖ p(z|x))"
    else:
        gap, what = evidence(c)["gap"], "IWAE − ELBO, a lower bound on the gap,"
    return ("Under 1 nat" if gap < 1 else "1 nat or more"), f"{what} = {gap:.3f} nats for {c.image_name}."


def larger_answer(c):
    q = parts(c)
    return (("The reconstruction term" if abs(float(q.reconstruction)) > abs(float(q.kl)) else "The KL"),
            f"|{float(q.reconstruction):.2f}| against {float(q.kl):.3f} nats.")


def trained_kl_answer(_):
    rates = sweep_rates()
    low, high = rates[0.3], rates[1.0]
    return ("It falls" if high < low else "It rises",
            f"The shipped sweep's models: KL {low:.2f} nats at σ_dec = 0.3, {high:.2f} at σ_dec = 1.")


def spread_answer(c):
    ratio = spread_ratio(c)
    choice = min({"It halves": 2.0, "It quarters": 4.0, "It stays the same": 1.0}.items(),
                 key=lambda item: abs(np.log(ratio / item[1])))[0]
    return choice, f"The spread over fresh draws fell by {ratio:.2f}× from L = 4 to L = 16 (1/√L predicts 2×)."


def training_answer(c):
    history = st.session_state.get(f"learn_history_{c.config.dataset}")
    if not history:
        return "Train first", "Press the Train button above: the answer comes from its run."
    early, late = history[1], history[-1]
    return ("Larger" if late["kl"] > early["kl"] else "Smaller",
            f"KL {early['kl']:.2f} nats at step {early['step']}, {late['kl']:.2f} at step {late['step']}.")


def tau_answer(c):
    low, one = samples_spread(c, 0.5), samples_spread(c, 1.0)
    return ("Less" if low < one else "More",
            f"Pixel spread across 48 samples: {low:.3f} at τ = 0.5, {one:.3f} at τ = 1.")


def active_answer(_):
    from ui.sweep_view import sigma_sweep
    from vae.sweep import ACTIVE_THRESHOLD

    results = sigma_sweep()[1]
    units, latent = next(p["active_dims"] for p in results["points"] if p["value"] == 2.0), results["config"]["latent_dim"]
    choice = ("All of them" if units == latent else "About half" if units >= latent / 4 else
              "One or two" if units >= 1 else "Not one")
    return choice, f"{units} of {latent} units have a KL above {ACTIVE_THRESHOLD:g} nats at σ_dec = 2 (sweep.json)."


MODEL_NORM = Question("model-norm", "Will this image's code μ lie within one unit of the prior's centre (‖μ‖ < 1)?",
                      ("Yes, ‖μ‖ < 1", "No, ‖μ‖ ≥ 1"), norm_answer)
DEFINITION_KL = Question("definition-kl", "As L grows from 1 to 256, does the sampled KL come closer to the "
                         "closed-form KL?", ("Yes, closer", "No, not closer"), definition_answer)
EVIDENCE_GAP = Question("evidence-gap", "Is q close enough to the true posterior that the gap is under 1 nat for "
                        "this image?", ("Under 1 nat", "1 nat or more"), gap_answer)
DECOMPOSITION_LARGER = Question("decomposition-larger", "For this image, which is larger in size: the "
                                "reconstruction term or the KL?", ("The reconstruction term", "The KL"), larger_answer)
DECODER_SIGMA_KL = Question("decoder-sigma-kl", "σ_dec goes from 0.3 to 1 for a model trained there: does its KL "
                            "rise or fall?", ("It rises", "It falls"), trained_kl_answer)
SAMPLING_SPREAD = Question("sampling-spread", "L goes from 4 to 16: what happens to the estimate's spread over "
                           "fresh draws of ε?", ("It halves", "It quarters", "It stays the same"), spread_answer)
KL_PRINTED = Question("kl-printed", "At q = p(z) (μ = 0, σ = 1) the KL must be 0. What does the printed formula "
                      "give?", ("0", "½", "d/2", "1"), printed_at_the_prior)
TRAINING_KL = Question("training-kl", f"Will the KL after {TRAIN_STEPS} steps be larger or smaller than after 50?",
                       ("Larger", "Smaller"), training_answer)
GENERATION_TAU = Question("generation-tau", "At τ = 0.5, will the samples vary more or less from one another than "
                          "at τ = 1?", ("More", "Less"), tau_answer)
RATE_ACTIVE = Question("rate-active", "At σ_dec = 2, how many of the 16 latent units of the shipped sweep stay "
                       "active?", ("All of them", "About half", "One or two", "Not one"), active_answer)
QUESTIONS = {q.key: q for q in (MODEL_NORM, DEFINITION_KL, EVIDENCE_GAP, DECOMPOSITION_LARGER, DECODER_SIGMA_KL,
                                SAMPLING_SPREAD, KL_PRINTED, TRAINING_KL, GENERATION_TAU, RATE_ACTIVE)}


STEPS = [Step("model", "The model", the_model), Step("definition", "The ELBO, by its definition", the_definition),
         Step("evidence", "The evidence and the gap", the_evidence),
         Step("decomposition", "Reconstruction minus KL", the_decomposition),
         Step("decoder", "The Gaussian decoder and σ_dec", the_decoder),
         Step("sampling", "L samples and z = μ + σ ⊙ ε", the_sampling),
         Step("kl", "The Gaussian KL, and the tutorial's misprint", the_kl),
         Step("training", "Training", the_training), Step("generation", "Generating new images", the_generation),
         Step("rate", "Rate, distortion and collapse", the_rate)]
