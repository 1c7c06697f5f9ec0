"""Step 3, the evidence and the gap: log p(x) = ELBO + KL(q(z|x) ‖ p(z|x)), by quadrature on a 2-D model, by
importance sampling on a larger one."""
from __future__ import annotations

from dataclasses import dataclass

import streamlit as st

from ui.learn import EPS_SEED, Step, equation, number
from ui.learn.questions import Question, ask

SAMPLES, REPEATS = 1000, 10  # importance sampling: K draws, repeated for the standard error
Q_CELLS, EVIDENCE_START = 61, 51  # quadrature: q's grid, per side; the evidence grid's first (refined from there)


@dataclass(frozen=True)
class Evidence:
    log_px: float
    elbo: float
    gap: float
    how: str  # "grid" or "iwae"
    check: object  # vae.objective.EvidenceEstimate: the Monte-Carlo figures (the check on a grid; the values else)


def normalised(ctx) -> bool:
    """Whether log p(x|z) is a normalised density or probability for this model and image."""
    return ctx.config.likelihood == "gaussian" or ctx.config.binarize


def evidence(ctx) -> Evidence:
    """This image's log p(x), ELBO and gap, one consistent set: by quadrature for a 2-D model
    (vae.posterior.evidence_and_gaps), else by importance sampling from the same draws
    (vae.objective.evidence_by_importance). Kept for the session per model and image: the answer reuses it."""
    from vae.objective import evidence_by_importance

    cache = st.session_state.setdefault("learn_evidence", {})
    found = cache.get(ctx.view)
    if found is not None:
        return found
    with st.spinner("Integrating over the latent space…" if ctx.config.latent_dim == 2 else
                    f"Importance sampling with {SAMPLES * REPEATS:,} draws…"):
        estimate = evidence_by_importance(ctx.model, ctx.tensor, SAMPLES, REPEATS, seed=EPS_SEED)
        if ctx.config.latent_dim == 2:
            from vae.posterior import evidence_and_gaps

            [(log_px, gap)] = evidence_and_gaps(ctx.model, ctx.tensor[0], [ctx.config.sigma_dec], n=Q_CELLS,
                                                start=EVIDENCE_START)
            log_px, gap = round(log_px, 3), round(gap, 3)
            found = Evidence(log_px, round(log_px - gap, 3), gap, "grid", estimate)
        else:
            log_px, elbo = round(estimate.log_px, 2), round(estimate.elbo, 2)
            found = Evidence(log_px, elbo, round(log_px - elbo, 2), "iwae", estimate)
    cache.clear()  # one image's figures at a time: a session never holds more
    cache[ctx.view] = found
    return found


def draw(ctx) -> None:
    if not normalised(ctx):
        st.info("This model's Bernoulli decoder was trained on grey levels, where its log p(x|z) is not a normalised "
                "probability: log p(x) has no meaning for it. Choose a Gaussian model, or one trained on binarised "
                "images, for this step.")
        return
    if ctx.config.likelihood == "gaussian":
        what = (f"the log-density the model gives the image: a density over ℝᴰ (D = {ctx.config.data_dim} pixels), "
                "so its log can be positive; it is not a probability")
    else:
        what = "the log-probability the model gives this binarised image"
    st.markdown(f"log p(x) is the **evidence**, {what} (the tutorial calls it \"the prior\": it is not). The ELBO "
                "falls short of it by exactly how far q is from the true posterior:")
    equation(r"\log p_\theta(x) &= \mathrm{ELBO}(x)",
             r"&\quad + \mathrm{KL}\big(q_\phi(z|x)\,\|\,p_\theta(z|x)\big)")
    if ctx.config.latent_dim == 2 and ctx.config.likelihood == "gaussian":
        st.page_link("pages/posterior.py", label="See p(z|x) beside q on the True posterior page",
                     icon=":material/blur_on:")
    st.caption("Try: other test images. The gap changes from image to image: it is large where q misses p(z|x), "
               "because p(z|x) is not shaped like a Gaussian or because the encoder's guess is off.")
    if ctx.config.latent_dim == 2:
        ask(QUESTION, ctx, after_lock=lambda: numbers(ctx))
    else:
        numbers(ctx)
        st.caption("This step's question needs the gap exactly, which a grid over the latent plane gives only for a "
                   "2-D model: choose one in the sidebar to answer it.")


def numbers(ctx) -> None:
    found = evidence(ctx)
    digits = 3 if found.how == "grid" else 2
    equation(rf"{number(found.log_px, digits)} &= {number(found.elbo, digits)} + {number(found.gap, digits)}")
    check = found.check
    if found.how == "grid":
        st.caption(f"All three by quadrature on grids over the latent plane (as on the True posterior page): "
                   f"log p(x) refined until it moves by less than 0.01 nats, KL(q ‖ p(z|x)) on a {Q_CELLS} × "
                   f"{Q_CELLS} grid over q's ±5σ box, and the ELBO ∫ q log p(x, z)/q dz their difference. "
                   f"By Monte Carlo, from {check.repeats * check.samples:,} "
                   f"draws of q: ELBO {check.elbo:.2f} ± {check.elbo_se:.3f}, and IWAE with K = {check.samples:,} "
                   f"{check.log_px:.2f} ± {check.log_px_se:.3f}.")
    else:
        st.caption(f"log p(x) by IWAE with K = {check.samples:,} draws of q, the mean of {check.repeats} repeats "
                   f"± its standard error ({check.log_px_se:.2f}); the ELBO from the same "
                   f"{check.repeats * check.samples:,} draws (± {check.elbo_se:.2f}). IWAE's expectation lies below "
                   "log p(x), so the gap shown is, in expectation, below the true KL(q ‖ p(z|x)); one estimate can "
                   "land on either side.")


def answer(ctx):
    found = evidence(ctx)
    return (("Under 1 nat" if found.gap < 1 else "1 nat or more"),
            f"KL(q ‖ p(z|x)) = {found.gap:.3f} nats for {ctx.image_name}, by quadrature.")


QUESTION = Question("evidence-gap", "Is q close enough to the true posterior that the gap is under 1 nat for "
                    "this image?", ("Under 1 nat", "1 nat or more"), answer)
STEP = Step("evidence", "The evidence and the gap", draw, QUESTION)
