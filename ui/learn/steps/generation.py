"""Step 10, generating: codes from the prior, scaled by a temperature τ, decoded."""
from __future__ import annotations

import streamlit as st

from ui import images, plots
from ui.learn import Step, equation, number
from ui.learn.questions import Question, ask

SHOWN, SPREAD_SAMPLES = 24, 200  # the images drawn; the samples behind the answer


def draw(ctx) -> None:
    from vae.generate import images_from_codes, mean_prior_norm, prior_codes, prior_radius

    tau = float(st.slider("Temperature τ", 0.1, 2.0, 1.0, 0.1, key="learn_tau", bind="query-params",
                          persist_state="session"))
    d = ctx.config.latent_dim
    z = prior_codes(SHOWN, d, tau, seed=0)
    st.markdown("A VAE generates by drawing a code from the prior and decoding it. The temperature τ scales the "
                "prior's spread: at τ = 1 the codes are draws from p(z) itself, at another τ from N(0, τ²I). Each "
                "picture is decode(z), the mean of p(x|z), not a draw from it (the Generate page draws too).")
    equation(r"z &\sim \mathcal{N}(0, \tau^2 I), \quad \hat x = \mathrm{decode}(z)",
             rf"\sqrt{{\mathbb{{E}}\|z\|^2}} &= \sqrt{{d}}\,\tau = {number(prior_radius(d, tau))}",
             rf"\mathbb{{E}}\|z\| &= {number(mean_prior_norm(d, tau))} \quad (d = {d},\ \tau = {tau:g})")
    grid = images_from_codes(ctx.model, z).numpy().reshape(3, 8, 28, 28)
    images.show(images.enlarge(images.to_uint8(plots.tile(grid, pad=1)), 2),
                f"{SHOWN} images decoded from codes drawn from N(0, τ²I) at τ = {tau:g}, in 3 rows of 8.",
                width="content")
    st.caption(f"{SHOWN} samples at τ = {tau:g}: decode(z) for z ~ N(0, {tau:g}²I). The root-mean-square length "
               + (f"is not a shell at d = 2: the lengths spread from 0 to past 2τ = {2 * tau:g}" if d == 2 else
                  f"holds most codes' lengths (over 80 %) within τ of it at d = {d}") + ".")
    st.caption("Try: move τ toward 0.1: every code lies near 0, so the images all look nearly like decode(0); at "
               "τ = 2 the codes spread twice as far from 0 as draws from p(z).")
    ask(QUESTION, ctx)


def answer(ctx):
    from vae.generate import pixel_spread

    low, one = pixel_spread(ctx.model, 0.5, SPREAD_SAMPLES), pixel_spread(ctx.model, 1.0, SPREAD_SAMPLES)
    return ("Less" if low < one else "More",
            f"Each pixel's standard deviation across {SPREAD_SAMPLES} samples, averaged over the pixels: {low:.3f} at "
            f"τ = 0.5, {one:.3f} at τ = 1.")


QUESTION = Question("generation-tau", "At τ = 0.5, will the samples vary more or less from one another than at "
                    "τ = 1?", ("More", "Less"), answer)
STEP = Step("generation", "Generating new images", draw, QUESTION)
