"""Step 7, L samples and the reparameterisation z = μ + σ ⊙ ε: the Monte-Carlo estimate and its spread."""
from __future__ import annotations

import numpy as np
import streamlit as st

from ui.learn import EPS_SEED, Step, equation, number, plus_minus, vector
from ui.learn.questions import Question, ask

REPEATS = 500  # fresh sets of draws at each L behind the answer (the ratio to ±5 %: 2 is 8 errors from 4 and from 1)


def draw(ctx) -> None:
    from vae.generate import monte_carlo_elbo

    samples = st.slider("L, samples of ε", 1, 64, 8, key="learn_l6", persist_state="session")
    mc = monte_carlo_elbo(ctx.model, ctx.tensor, samples, seed=EPS_SEED)
    st.markdown("The expectation is estimated with L draws, each written as μ + σ ⊙ ε so that the gradient flows "
                "through μ and σ (the reparameterisation):")
    equation(r"z^{(1)} &= \mu + \sigma \odot \varepsilon^{(1)}",
             rf"&= {vector(mc.mu)}", rf"&\ \ + {vector(mc.sigma, digits=3)}", rf"&\ \ \odot {vector(mc.eps[0])}",
             rf"&= {vector(mc.z[0])}")
    value = plus_minus(mc.elbo, mc.reconstruction_se) if samples > 1 else number(mc.elbo)
    equation(rf"\mathcal{{L}} &= \frac{{1}}{{{samples}}}\sum_{{l=1}}^{{{samples}}} \log p_\theta(x|z^{{(l)}}) - "
             r"\mathrm{KL}", rf"&= {number(mc.reconstruction)} - {number(mc.kl, 3)}", rf"&= {value}")
    st.caption(f"L = {samples} draws of ε (seed {EPS_SEED})" + (", ± the standard error" if samples > 1 else "")
               + ".")
    st.page_link("pages/reparameterisation.py", label="See the samples inside q's ellipses", icon=":material/casino:")
    st.caption("Try: move L and watch the estimate settle; each z⁽ˡ⁾ is decoded and scored.")
    ask(QUESTION, ctx)


def ratio(ctx) -> tuple[float, float]:
    """The spread of the L-sample estimate at L = 4 over its spread at L = 16, ± its standard error, from REPEATS
    fresh sets of draws at each L (vae.generate.spread_ratio), with draws of this image's own: one seed for every
    image gave every image the same error (the ratio 1.5–1.8 on most, against 2)."""
    from vae.generate import spread_ratio

    return spread_ratio(ctx.model, ctx.tensor, 4, 16, REPEATS, seed=EPS_SEED + (ctx.index or 0))


def answer(ctx):
    found, error = ratio(ctx)
    choice = min({"It halves": 2.0, "It quarters": 4.0, "It stays the same": 1.0}.items(),
                  key=lambda item: abs(np.log(found / item[1])))[0]
    return choice, (f"Over {REPEATS:,} fresh sets of draws at each L, the estimate's spread fell {found:.2f} ± "
                    f"{error:.2f} times from L = 4 to L = 16; 1/√L predicts 2.")


QUESTION = Question("sampling-spread", "L goes from 4 to 16: what happens to the estimate's spread over fresh draws "
                    "of ε?", ("It halves", "It quarters", "It stays the same"), answer)
STEP = Step("sampling", "L samples and z = μ + σ ⊙ ε", draw, QUESTION)
