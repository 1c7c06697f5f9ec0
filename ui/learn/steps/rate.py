"""Step 11, rate, distortion and collapse: each σ_dec picks a trade-off, and past some σ_dec the code is empty."""
from __future__ import annotations

import streamlit as st

from ui import charts, plots
from ui.learn import Step, equation
from ui.learn.questions import Question, ask

COLLAPSED_AT = 2.0  # the sweep's σ_dec the question asks about


def draw(ctx) -> None:
    from ui.sweep_view import sigma_sweep
    from vae.sweep import collapse_value

    found = sigma_sweep()
    if found is None:
        st.info("No sweep over σ_dec is shipped in checkpoints/sweeps/: this step needs one.")
        return
    folder, results = found
    points = results["points"]
    st.markdown("With σ_dec fixed, maximising the ELBO is minimising a distortion D = E‖x − x̂‖² plus 2σ_dec² times "
                "a rate R = KL(q ‖ p): each σ_dec picks one trade-off, and past some σ_dec the code carries nothing "
                "at all.")
    equation(r"-\mathrm{ELBO} &= \frac{\mathbb{E}\|x - \hat x\|^2}{2\sigma_{dec}^2} + \mathrm{KL}(q\,\|\,p) + "
             r"\text{const}", r"&= \frac{1}{2\sigma_{dec}^2}\big(D + 2\sigma_{dec}^2 R\big) + \text{const}")
    collapse = collapse_value(results)
    first, last = points[0], points[-1]
    alt = (f"Rate against distortion for the sweep's {len(points)} models: from σ_dec = {first['value']:g} (rate "
           f"{first['rate']:.1f} nats, distortion {first['distortion']:.1f}) to σ_dec = {last['value']:g} (rate "
           f"{last['rate']:.1f}, distortion {last['distortion']:.1f})"
           + (f"; the code collapses from σ_dec = {collapse:g}." if collapse is not None else "."))
    charts.show(plots.rate_distortion(points, results["parameter"], None, collapse),
                f"{folder.name} · rate against distortion", key="learn_rate_chart", alt=alt)
    st.page_link("pages/rate_distortion.py", label="Open the sweep's models on the Rate–distortion page",
                 icon=":material/show_chart:")
    st.caption("Try: open a member of the sweep on the Rate–distortion page and see its latent space shrink to "
               "nothing as σ_dec grows.")
    if any(p["value"] == COLLAPSED_AT for p in points):
        ask(QUESTION, ctx)


OPTIONS = ("All of them", "More than half", "Some, but half or fewer", "Not one")


def answer(_):
    from ui.sweep_view import sigma_sweep
    from vae.collapse import ACTIVE_THRESHOLD

    results = sigma_sweep()[1]
    units = next(p["active_dims"] for p in results["points"] if p["value"] == COLLAPSED_AT)
    latent = results["config"]["latent_dim"]
    choice = (OPTIONS[0] if units == latent else OPTIONS[1] if units > latent / 2 else OPTIONS[2] if units >= 1
              else OPTIONS[3])
    return choice, (f"{units} of its {latent} units {'has' if units == 1 else 'have'} a KL above "
                    f"{ACTIVE_THRESHOLD:g} nats, averaged over the test set, at σ_dec = {COLLAPSED_AT:g}.")


QUESTION = Question("rate-active", f"The shipped sweep's model trained at σ_dec = {COLLAPSED_AT:g}: how many of its "
                    "latent units stay active?", OPTIONS, answer)
STEP = Step("rate", "Rate, distortion and collapse", draw, QUESTION)
