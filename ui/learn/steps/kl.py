"""Step 8, the Gaussian KL: the general diagonal form, its simplification against N(0, I), and the tutorial's
misprint beside them on this image's q."""
from __future__ import annotations

import streamlit as st
import torch

from ui.learn import Step, equation, number
from ui.learn.questions import Question, ask


def kls(ctx) -> tuple[float, float, float]:
    """(the general form at μ₁ = 0, σ₁ = 1, the simplified form, the printed form) for this image's q."""
    from vae.objective import kl_gaussians, kl_to_standard_normal, printed_kl

    with torch.no_grad():
        mu, logvar = ctx.model.encode(ctx.tensor)
        zero = torch.zeros_like(mu)
        return (float(kl_gaussians(mu, logvar, zero, zero)[0]), float(kl_to_standard_normal(mu, logvar)[0]),
                float(printed_kl(mu, logvar)[0]))


def draw(ctx) -> None:
    general, simplified, printed = kls(ctx)
    d = ctx.config.latent_dim
    st.markdown("Between two diagonal Gaussians the KL has a closed form; with the prior N(0, I) it simplifies:")
    equation(r"&\mathrm{KL}\big(\mathcal{N}(\mu_0, \sigma_0^2)\,\|\,\mathcal{N}(\mu_1, \sigma_1^2)\big)",
             r"&= \tfrac12 \sum_i \Big(\frac{\sigma_{0i}^2}{\sigma_{1i}^2} + \frac{(\mu_{1i} - \mu_{0i})^2}"
             r"{\sigma_{1i}^2}", r"&\qquad - 1 + \log\frac{\sigma_{1i}^2}{\sigma_{0i}^2}\Big)",
             rf"&= {number(general, 4)}")
    equation(r"&\mu_1 = 0,\ \sigma_1 = 1:",
             rf"&\tfrac12 \sum_{{i=1}}^{{{d}}} \big(\sigma_i^2 + \mu_i^2 - 1 - \log \sigma_i^2\big) = "
             rf"{number(simplified, 4)}")
    st.markdown("The tutorial prints it, for an isotropic q = N(μ, σ²I), as ½((σ²)ᵈ + μᵀμ − d log σ²): a power "
                "where a sum belongs, and the −d missing. This q's σ differs from dimension to dimension, so read "
                "(σ²)ᵈ as ∏ᵢ σᵢ² and d log σ² as Σᵢ log σᵢ² (what they are when every σᵢ is the same). On this "
                "image's μ and σ:")
    equation(r"&\text{printed: } \tfrac12\Big(\prod_i \sigma_i^2 + \mu^\top\mu - \sum_i \log\sigma_i^2\Big)",
             rf"&= {number(printed, 4)} \ne {number(simplified, 4)}")
    st.caption(f"Try: another image. The printed formula exceeds the right one by ½(∏ᵢσᵢ² − Σᵢσᵢ² + d), here "
               f"{printed - simplified:.4f} nats: the two agree only where ∏ᵢσᵢ² = Σᵢσᵢ² − d (at d = 2, e.g. "
               "σ² = (3, 0.5)).")
    ask(QUESTION, ctx)


OPTIONS = {"0": lambda d: 0.0, "½": lambda d: 0.5, "d/2": lambda d: d / 2, "d": lambda d: float(d)}


def answer(ctx):
    from vae.objective import printed_kl

    d = ctx.config.latent_dim
    value = float(printed_kl(torch.zeros(1, d), torch.zeros(1, d))[0])
    right = tuple(k for k, v in OPTIONS.items() if abs(v(d) - value) < 1e-9)
    return right, (f"It gives {value:g}: at σ = 1, (σ²)ᵈ = 1ᵈ = 1 stands where Σᵢ σᵢ² = d = {d} belongs, and the "
                   f"−d is missing: ½(1 + 0 − 0) = ½, where ½({d} + 0 − {d} − 0) = 0.")


QUESTION = Question("kl-printed", "At q = p(z) (μ = 0, σ = 1) the KL must be 0. What does the printed formula "
                    "give? (d is the number of latent dimensions.)", tuple(OPTIONS), answer)
STEP = Step("kl", "The Gaussian KL, and the tutorial's misprint", draw, QUESTION)
