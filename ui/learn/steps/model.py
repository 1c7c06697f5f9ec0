"""Step 1, the model: the prior, the encoder's q(z|x) and the decoder's p(x|z), with this image's μ and σ."""
from __future__ import annotations

import numpy as np
import streamlit as st
import torch

from ui.learn import Step, equation, number, picture, vector
from ui.learn.questions import Question, ask


def posterior_of(ctx):
    """(μ, σ) of q(z|x) as numpy."""
    with torch.no_grad():
        mu, logvar = ctx.model.encode(ctx.tensor)
    return mu[0].double().numpy(), torch.exp(0.5 * logvar[0]).double().numpy()


def draw(ctx) -> None:
    config = ctx.config
    st.markdown("Three distributions make a VAE: a prior over codes, an encoder's guess of the code behind an image, "
                "and a decoder's distribution of images given a code.")
    rows = [rf"p(z) &= \mathcal{{N}}(0, I_{{{config.latent_dim}}})",
            r"q_\phi(z|x) &= \mathcal{N}\big(\mu, \operatorname{diag}\sigma^2\big)"]
    if config.likelihood == "gaussian":
        rows += [rf"p_\theta(x|z) &= \mathcal{{N}}\big(\mathrm{{decode}}(z), "
                 rf"\sigma_{{dec}}^2 I_{{{config.data_dim}}}\big)",
                 rf"\sigma_{{dec}} &= {config.sigma_dec:g}"]
    else:
        rows += [rf"p_\theta(x|z) &= \textstyle\prod_{{d=1}}^{{{config.data_dim}}} \mathrm{{Bernoulli}}\big(x_d;\ "
                 r"\mathrm{decode}(z)_d\big)"]
    equation(*rows)
    mu, sigma = posterior_of(ctx)
    with torch.no_grad():
        recon = ctx.model.decode(torch.from_numpy(mu).float()[None])[0].numpy()
    columns = st.columns(3)
    picture(columns[0], ctx.x, f"x, {ctx.image_name}", f"The image x: {ctx.described}.")
    picture(columns[1], recon, "decode(μ): the decoder's mean at the encoder's μ",
            f"decode(μ), the decoder's picture of the code the encoder gives {ctx.image_name}.")
    columns[2].caption("Try: another test image, or draw your own on the Draw page and choose it above: μ moves, "
                       "σ says how sure the encoder is.")

    def numbers():
        equation(rf"\mu &= {vector(mu)}", rf"\sigma &= {vector(sigma, digits=3)}",
                 rf"\|\mu\| &= {number(float(np.linalg.norm(mu)))}")

    ask(QUESTION, ctx, after_lock=numbers)


def answer(ctx):
    norm = float(np.linalg.norm(posterior_of(ctx)[0]))
    return ("Yes, ‖μ‖ < 1" if norm < 1 else "No, ‖μ‖ ≥ 1"), f"‖μ‖ = {norm:.2f} for {ctx.image_name}."


QUESTION = Question("model-norm", "Will this image's code μ lie within one unit of the prior's centre (‖μ‖ < 1)?",
                    ("Yes, ‖μ‖ < 1", "No, ‖μ‖ ≥ 1"), answer)
STEP = Step("model", "The model", draw, QUESTION)
