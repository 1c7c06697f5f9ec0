"""Step 6, the Gaussian decoder and σ_dec: log p(x|z) = −‖x − x̂‖²/(2σ_dec²) − (D/2) log(2πσ_dec²)."""
from __future__ import annotations

import streamlit as st

from ui import store
from ui.learn import Step, equation, number, plus_minus
from ui.learn.questions import Question, ask
from ui.learn.steps.decomposition import SAMPLES, estimate
from vae.data import DATASETS


def sweep_rates() -> tuple[dict[float, float], dict]:
    """({σ_dec: the test set's mean KL} of the shipped sweep's models, its config), or ({}, {}) without a sweep."""
    from ui.sweep_view import sigma_sweep

    found = sigma_sweep()
    return ({p["value"]: p["rate"] for p in found[1]["points"]}, found[1]["config"]) if found else ({}, {})


def draw(ctx) -> None:
    config = ctx.config
    if config.likelihood != "gaussian":
        st.info("This model has a Bernoulli decoder: no σ_dec. Choose a Gaussian model in the sidebar for this step.")
        return
    sigma = float(st.select_slider("σ_dec", store.SIGMA_CHOICES, store.nearest_sigma(config.sigma_dec),
                                   key="learn_sigma", bind="query-params", persist_state="session"))
    mc = estimate(ctx, sigma)
    d = config.data_dim
    scaled = -mc.distortion / (2 * sigma ** 2)
    constant = mc.reconstruction - scaled
    st.markdown("With a Gaussian decoder the reconstruction term is a scaled squared error plus a constant:")
    equation(r"\log p_\theta(x|z) &= -\frac{\|x - \hat x\|^2}{2\sigma_{dec}^2}",
             r"&\quad - \frac{D}{2}\log(2\pi\sigma_{dec}^2)",
             rf"\mathbb{{E}}_q[\log p_\theta(x|z)] &\approx -\frac{{{number(mc.distortion)}}}{{2 \cdot {sigma:g}^2}}",
             rf"&\quad - \frac{{{d}}}{{2}}\log(2\pi \cdot {sigma:g}^2)",
             rf"&= \underbrace{{{number(scaled)}}}_{{-\mathbb{{E}}\|x - \hat x\|^2 / 2\sigma_{{dec}}^2}}"
             rf" + \underbrace{{{number(constant)}}}_{{\text{{constant}}}}",
             rf"&= {plus_minus(mc.reconstruction, mc.reconstruction_se)}")
    st.caption(f"E‖x − x̂‖² ≈ {mc.distortion:.2f} is the squared error, averaged over L = {SAMPLES} draws of z (the "
               f"same draws as the previous step); at σ_dec = {sigma:g} it costs {-scaled:.2f} nats. The tutorial "
               "says the constant \"can be ignored\": true of the gradients while σ_dec stays fixed (it depends on "
               f"neither z nor the weights), not of the ELBO's value, which it moves by {constant:.2f} nats here.")
    st.caption(f"The model was trained at σ_dec = {config.sigma_dec:g}; its KL on this image ({mc.kl:.3f} nats) "
               "does not move with σ_dec here, because q does not. A model trained at another σ_dec has another "
               "KL: the question asks which way.")
    st.caption("Try: move σ_dec. A small σ_dec makes the squared error costly and the constant large; a large one "
               "forgives errors but pays in the constant.")
    rates = sweep_rates()[0]
    if 0.3 in rates and 1.0 in rates:
        ask(QUESTION, ctx)


def answer(_):
    rates, config = sweep_rates()
    low, high = rates[0.3], rates[1.0]
    return ("It falls" if high < low else "It rises",
            f"The shipped sweep's models ({config['latent_dim']}-D, {DATASETS[config['dataset']].title}), each "
            f"trained at its σ_dec, their KL averaged over the test set: {low:.2f} nats at σ_dec = 0.3, {high:.2f} "
            "at σ_dec = 1. (Not the same quantity as this model's KL on this one image.)")


QUESTION = Question("decoder-sigma-kl", "σ_dec goes from 0.3 to 1 for a model trained there: does its KL rise or "
                    "fall?", ("It rises", "It falls"), answer)
STEP = Step("decoder", "The Gaussian decoder and σ_dec", draw, QUESTION)
