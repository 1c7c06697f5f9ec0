"""Step 2, the ELBO by its definition: E_q[log p(x, z)/q(z|x)], estimated with L draws, regrouped into the
reconstruction term minus the KL."""
from __future__ import annotations

import streamlit as st
import torch

from ui.learn import EPS_SEED, Step, equation, number, plus_minus
from ui.learn.questions import Question, ask

def eps(ctx, samples: int) -> torch.Tensor:
    return torch.randn(samples, ctx.config.latent_dim, generator=torch.Generator().manual_seed(EPS_SEED))


def estimate(ctx, samples: int):
    from vae.objective import elbo_by_definition

    return elbo_by_definition(ctx.model, ctx.tensor, eps(ctx, samples))


def draw(ctx) -> None:
    samples = st.slider("L, samples of z", 1, 256, 16, key="learn_l", bind="query-params", persist_state="session")
    est = estimate(ctx, samples)
    value = plus_minus(est.definition, est.definition_se) if samples > 1 else number(est.definition)
    st.markdown("The evidence lower bound is an expectation under q of the log ratio of the joint to q:")
    equation(r"\mathrm{ELBO}(x) &= \mathbb{E}_{q_\phi(z|x)}\Big[\log \frac{p_\theta(x, z)}{q_\phi(z|x)}\Big]",
             rf"&\approx \frac{{1}}{{{samples}}}\sum_{{l=1}}^{{{samples}}} \log \frac{{p_\theta(x|z^{{(l)}})\,"
             rf"p(z^{{(l)}})}}{{q_\phi(z^{{(l)}}|x)}}",
             rf"&= {value}")
    equation(rf"&= \underbrace{{{number(est.reconstruction)}}}_{{\frac{{1}}{{L}}\sum \log p_\theta(x|z^{{(l)}})}}"
             rf" - \underbrace{{{number(est.kl_sampled, 3)}}}_{{\frac{{1}}{{L}}\sum \log \frac{{q(z^{{(l)}}|x)}}"
             rf"{{p(z^{{(l)}})}}}}",
             rf"&= {number(est.reconstruction - est.kl_sampled)}")
    equation(r"&\text{with the closed-form KL:}",
             rf"&{number(est.reconstruction)} - {number(est.kl_closed_form, 3)} = {number(est.decomposed)}")
    st.caption(f"An estimate from L = {samples} draws z⁽ˡ⁾ = μ + σ ⊙ ε⁽ˡ⁾ (ε with seed {EPS_SEED})"
               + (", ± its standard error (the spread of the L terms over √L)" if samples > 1 else "")
               + ". It scatters around the ELBO: with few draws it can even land above log p(x) (the next step), "
               "which the ELBO itself never exceeds. The same draws in every line: the definition's average and the "
               "reconstruction minus the sampled KL are one sum, regrouped. Training uses the last line: the KL in "
               "closed form, equal in expectation.")
    st.caption("Try: move L. With L = 1 the sampled KL is one draw's log q/p(z); as L grows it settles on the "
               "closed form.")
    ask(QUESTION, ctx)


def kl_spreads(ctx) -> tuple[float, float]:
    """The sampled KL's typical distance from the closed form, its standard deviation over fresh draws, with L = 1
    and L = 256 (vae.objective.sampled_kl_spread: exact, not measured)."""
    from vae.objective import sampled_kl_spread

    with torch.no_grad():
        mu, logvar = ctx.model.encode(ctx.tensor)
    return float(sampled_kl_spread(mu, logvar, 1)[0]), float(sampled_kl_spread(mu, logvar, 256)[0])


def answer(ctx):
    one, many = kl_spreads(ctx)
    return ("Yes, it shrinks" if many < one else "No, it does not shrink",
            f"The sampled KL's standard deviation over fresh draws, √(Σᵢ[½(σᵢ² − 1)² + μᵢ²σᵢ²] / L) for this q: "
            f"{one:.3f} nats with L = 1, {many:.4f} with L = 256 — 16 = √256 times smaller. Any one set of draws can "
            "land closer or farther; on average it comes closer.")


QUESTION = Question("definition-kl", "As L grows from 1 to 256, does the sampled KL's typical distance from the "
                    "closed-form KL, over fresh draws, shrink?", ("Yes, it shrinks", "No, it does not shrink"), answer)
STEP = Step("definition", "The ELBO, by its definition", draw, QUESTION)
