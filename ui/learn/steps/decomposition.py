"""Step 5, reconstruction minus KL: ELBO = E_q[log p(x|z)] − KL(q(z|x) ‖ p(z)), the form training computes."""
from __future__ import annotations

import streamlit as st

from ui import metrics
from ui.learn import EPS_SEED, Step, equation, number, plus_minus
from ui.learn.questions import Question, ask

SAMPLES = 64  # draws of z behind the reconstruction term (steps 5 and 6: the same estimate)
PRIOR_SAMPLES = 1000  # draws from p(z) behind the answer
SAME = 1.0  # nats: ELBOs closer than this are "about the same"


def estimate(ctx, sigma: float | None = None):
    """The reconstruction term from SAMPLES draws z = μ + σ ⊙ ε (seed EPS_SEED) and the closed-form KL."""
    from vae.generate import monte_carlo_elbo

    return monte_carlo_elbo(ctx.model, ctx.tensor, SAMPLES, seed=EPS_SEED, sigma_dec=sigma)


def draw(ctx) -> None:
    mc = estimate(ctx)
    st.markdown("Written the way it is computed: how well decoded codes explain the image, minus how far q strays "
                "from the prior.")
    equation(r"\mathrm{ELBO}(x) &= \mathbb{E}_q[\log p_\theta(x|z)]",
             r"&\quad - \mathrm{KL}\big(q_\phi(z|x)\,\|\,p(z)\big)",
             rf"&\approx {number(mc.reconstruction)} - {number(mc.kl, 3)}",
             rf"&= {plus_minus(mc.elbo, mc.reconstruction_se)}")
    metrics.row([("Reconstruction term", f"{mc.reconstruction:.2f} ± {mc.reconstruction_se:.2f}",
                  f"(1/L) Σ log p(x|z⁽ˡ⁾) over L = {SAMPLES} draws of z (seed {EPS_SEED}), ± its standard error"),
                 ("KL to the prior", f"{mc.kl:.3f}", "closed form: exact"), ("ELBO", f"{mc.elbo:.2f}")])
    st.caption(f"The reconstruction term is an estimate from L = {SAMPLES} draws (seed {EPS_SEED}), ± its standard "
               "error; the KL is exact.")
    st.caption("Try: a drawing the model finds odd (the Draw page) has a lower reconstruction term, and often a "
               "larger KL.")
    ask(QUESTION, ctx)


def answer(ctx):
    from vae.objective import prior_as_q_elbo

    mc = estimate(ctx)
    prior, prior_se = prior_as_q_elbo(ctx.model, ctx.tensor, PRIOR_SAMPLES, seed=EPS_SEED)
    change = prior - mc.elbo
    right = "About the same" if abs(change) < SAME else "Higher" if change > 0 else "Lower"
    return right, (f"With q = p(z): E_p(z)[log p(x|z)] = {prior:.2f} ± {prior_se:.2f} ({PRIOR_SAMPLES:,} draws from "
                   f"the prior) and no KL, against this q's ELBO {mc.elbo:.2f} ± {mc.reconstruction_se:.2f}: "
                   f"{abs(change):.2f} nats {'higher' if change > 0 else 'lower'}. This q pays a KL of {mc.kl:.3f} "
                   f"nats for a reconstruction term {mc.reconstruction - prior:.2f} nats above the prior's.")


QUESTION = Question("decomposition-prior", "Were q(z|x) replaced by the prior p(z) (no KL to pay, but codes that "
                    "say nothing about this image), would the ELBO be higher or lower?",
                    ("Higher", "Lower", "About the same"), answer)
STEP = Step("decomposition", "Reconstruction minus KL", draw, QUESTION)
