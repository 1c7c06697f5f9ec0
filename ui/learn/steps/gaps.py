"""Step 4, the two gaps: log p(x) − ELBO(q_φ) = [log p(x) − ELBO(q*)] + [ELBO(q*) − ELBO(q_φ)], the approximation
gap and the amortisation gap (Cremer, Li & Duvenaud, 2018), each computed by vae.gaps. On a shipped model's test
image the figures are read from its shipped results (checkpoints/gaps/<name>.json, the same computation); else
computed here."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import streamlit as st

from ui import store
from ui.learn import Step, equation, number, vector
from ui.learn.questions import Question, ask
from ui.learn.steps.evidence import normalised

APPROXIMATION, AMORTISATION = "The approximation gap", "The amortisation gap"
TIE_ERRORS, TIE_NATS = 3, 0.02  # two gaps closer than 3 × their errors + 0.02 nats: either answer counts
SAME_ENCODER = 1e-4  # the shipped results' q_φ against the model's own: a retrained checkpoint is not read


@dataclass(frozen=True)
class Found:
    split: object  # vae.gaps.GapSplit
    shipped: str | None = None  # the results file read ("checkpoints/gaps/<name>.json"), None when computed here
    images: int = 0  # how many test images that file holds


def from_results(ctx):
    """This test image's split from the model's shipped results (vae.gaps.results_path), where they hold it: the same
    model (its name, σ_dec, likelihood, q_φ's μ for this image) and the same image (binarised as the path does)."""
    import torch

    from vae.gaps import results_path

    path = results_path(ctx.info.path)
    if ctx.index is None or not path.is_file():
        return None
    results, splits = store.gap_results(path), store.gap_splits(path)
    if results is None or splits is None:
        return None
    config = ctx.config
    if (results.get("name") != ctx.info.name or results["sigma_dec"] != config.sigma_dec
            or results.get("latent_dim") != config.latent_dim or results.get("likelihood") != config.likelihood
            or results.get("dataset") != config.dataset or ctx.index not in splits
            or (config.binarize and results.get("settings", {}).get("seed") != 0)):
        return None
    found = splits[ctx.index]
    with torch.no_grad():
        mu = ctx.model.encode(ctx.tensor.to(ctx.model.device))[0][0].double().cpu().numpy()
    if np.abs(mu - found.mu).max() > SAME_ENCODER * (1 + np.abs(mu).max()):
        return None  # the checkpoint changed since its results were computed
    return Found(found, "/".join(path.parts[-3:]), results["images"])


def gaps(ctx) -> Found:
    """This image's split at the model's own σ_dec: read from the shipped results, else computed by vae.gaps.split
    (a few seconds). Kept for the session per model and image: the answer reuses it."""
    cache = st.session_state.setdefault("learn_gaps", {})
    found = cache.get(ctx.view)
    if found is not None:
        return found
    found = from_results(ctx)
    if found is None:
        from vae.gaps import split

        bar, report = store.gap_progress(ctx.config.latent_dim, "Finding the best Gaussian for this image, q*, and "
                                         "log p(x)…")
        found = Found(split(ctx.model, ctx.tensor, ctx.config.sigma_dec, on_progress=report))
        bar.empty()
    cache.clear()  # one image's figures at a time
    cache[ctx.view] = found
    return found


def digits(found: Found) -> int:
    return 3 if found.split.log_px_how == "grid" else 2


def printed(found: Found) -> tuple[float, float, float]:
    """(log p(x), ELBO(q*), ELBO(q_φ)) rounded as shown: the equation's differences are taken from these, so that it
    adds up as printed."""
    s, k = found.split, digits(found)
    return round(s.log_px, k), round(s.elbo_optimal, k), round(s.elbo_amortised, k)


def parts(found: Found) -> tuple[float, float, float]:
    """(the total gap, the approximation gap, the amortisation gap) as shown: differences of `printed`'s figures."""
    log_px, optimal, amortised = printed(found)
    return log_px - amortised, log_px - optimal, optimal - amortised


def term(value: float, k: int) -> str:
    """A number to subtract from: a negative one in parentheses."""
    return f"({number(value, k)})" if value < 0 else number(value, k)


def draw(ctx) -> None:
    if not normalised(ctx):
        st.info("This model's Bernoulli decoder was trained on grey levels, where its log p(x|z) is not a normalised "
                "probability: log p(x) has no meaning for it, nor have its gaps. Choose a Gaussian model, or one "
                "trained on binarised images, for this step.")
        return
    st.markdown("The last step's gap, KL(q_φ(z|x) ‖ p(z|x)), has two causes (Cremer, Li & Duvenaud, 2018). Let q* "
                "be the best diagonal Gaussian for this image alone, the one with the highest ELBO; then")
    equation(r"&\log p_\theta(x) - \mathrm{ELBO}(q_\phi)", r"&\quad = \big[\log p_\theta(x) - \mathrm{ELBO}(q^*)\big]",
             r"&\quad\quad + \big[\mathrm{ELBO}(q^*) - \mathrm{ELBO}(q_\phi)\big]")
    st.markdown("- **The approximation gap**, log p(x) − ELBO(q*) = KL(q* ‖ p(z|x)): what no diagonal Gaussian can "
                "reach. Where p(z|x) is skewed, curved or has two modes, even the best Gaussian misses it.\n"
                "- **The amortisation gap**, ELBO(q*) − ELBO(q_φ): what one encoder for every image gives away. "
                "The encoder guesses each image's q in one pass; its guess is not the best Gaussian for this image.")
    st.page_link("pages/gaps.py", label="Both gaps across the test set: Why q misses",
                 icon=":material/join_inner:")
    st.caption("Try: other test images, and the 2-D models with σ_dec = 0.1 and 1.0. The two parts change from "
               "image to image, and so does which one is larger.")
    if ctx.config.latent_dim == 2:
        ask(QUESTION, ctx, after_lock=lambda: numbers(ctx))
    else:
        numbers(ctx)
        st.caption("This step's question needs log p(x) exactly, which a grid over the latent plane gives only for a "
                   "2-D model: choose one in the sidebar to answer it.")


def numbers(ctx) -> None:
    found = gaps(ctx)
    s, k = found.split, digits(found)
    log_px, optimal, amortised = printed(found)
    total, approximation, amortisation = parts(found)
    equation(rf"{number(log_px, k)} - {term(amortised, k)} &= \big[{number(log_px, k)} - {term(optimal, k)}\big]",
             rf"&\quad + \big[{number(optimal, k)} - {term(amortised, k)}\big]",
             rf"{number(total, k)} &= {number(approximation, k)} + {number(amortisation, k)}")
    equation(rf"q_\phi:\ \mu &= {vector(s.mu)},", rf"\sigma &= {vector(s.sigma, digits=3)}",
             rf"q^*:\ \mu &= {vector(s.optimal_mu)},", rf"\sigma &= {vector(s.optimal_sigma, digits=3)}")
    source = (f"Read from this model's shipped results ({found.shipped}: its first {found.images:,} test images, "
              "by `python -m vae gaps`)" if found.shipped else "Computed now for this image by vae.gaps.split")
    if s.log_px_how == "grid":
        how = ("log p(x) by a grid integral over the latent plane (as on the True posterior page), both ELBOs by "
               "Gauss–Hermite quadrature on q; q* by ascending the ELBO from q_φ and from p(z|x)'s own mean and "
               "variances, the better of the two")
    else:
        how = ("both ELBOs by Monte Carlo on the same draws, log p(x) by IWAE with q* as its proposal (a lower bound "
               "in expectation, so the approximation gap shown is, in expectation, below the true one); q* by "
               "ascending the ELBO from q_φ")
    st.caption(f"{source}: {how}. Approximation gap ± {s.approximation_error:.{k + 1}f}, amortisation gap "
               f"± {s.amortisation_error:.{k + 1}f} nats.")


def larger(split) -> tuple[str, ...]:
    """The options right for this split: the larger gap, or both where the two are within their errors (×
    `TIE_ERRORS`) and `TIE_NATS` of each other (the larger first)."""
    first, second = ((AMORTISATION, APPROXIMATION) if split.amortisation > split.approximation else
                     (APPROXIMATION, AMORTISATION))
    close = abs(split.amortisation - split.approximation) <= (
        TIE_ERRORS * (split.approximation_error + split.amortisation_error) + TIE_NATS)
    return (first, second) if close else (first,)


def answer(ctx):
    found = gaps(ctx)
    s, k = found.split, digits(found)
    right = larger(s)
    _, approximation, amortisation = parts(found)  # as the equation shows them
    figures = (f"Approximation gap {approximation:.{k}f} ± {s.approximation_error:.{k + 1}f} nats, amortisation "
               f"gap {amortisation:.{k}f} ± {s.amortisation_error:.{k + 1}f} nats for {ctx.image_name}")
    if len(right) > 1:
        return right, (f"{figures}: they differ by less than {TIE_ERRORS} times their errors plus {TIE_NATS} nats, "
                       "too close to call, so either answer counts.")
    if right[0] == AMORTISATION:
        return right, (f"{figures}: the encoder's guess loses more than the Gaussian's shape does. Ascending the ELBO "
                       "for this image alone would recover most of the gap.")
    return right, (f"{figures}: even the best Gaussian for this image misses p(z|x) by more than the encoder's "
                   "guess misses that Gaussian. A better encoder would not close most of this gap; a richer q would.")


QUESTION = Question("gaps-larger", "Which part of this image's gap is larger: the approximation gap (no diagonal "
                    "Gaussian fits p(z|x) exactly) or the amortisation gap (the encoder's guess is not the best "
                    "Gaussian for this image)?", (APPROXIMATION, AMORTISATION), answer)
STEP = Step("gaps", "The two gaps", draw, QUESTION)
