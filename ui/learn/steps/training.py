"""Step 9, training: Adam's steps up the batch's ELBO, a short run from scratch probed at every few steps."""
from __future__ import annotations

import streamlit as st

from ui import plots, store
from ui.learn import Step, equation, number
from ui.learn.questions import Question, ask

STEPS, EVERY, PROBE = 300, 5, 500  # the run's steps, the steps between probes, the probe's training images
TRAIN_IMAGES = 2000


def recipe(ctx):
    """The short run's model: 2-D, this dataset, this model's σ_dec (0.3 for a Bernoulli model)."""
    from vae.config import VAEConfig

    sigma = ctx.config.sigma_dec if ctx.config.likelihood == "gaussian" else 0.3
    return VAEConfig(dataset=ctx.config.dataset, latent_dim=2, hidden=(256,), sigma_dec=sigma, seed=0)


def history_key(ctx) -> str:
    config = recipe(ctx)
    return f"learn_history_{config.dataset}_{config.sigma_dec:g}"


def train_short(ctx) -> list[dict]:
    """A fresh model (`recipe`) trained STEPS steps on TRAIN_IMAGES training images, probed on the first PROBE of
    them before the first step and after every EVERY (vae.train.probed_run), with a progress bar."""
    from vae.train import Trainer, probed_run

    train, _ = store.dataset(ctx.config.dataset, "train")
    data = train.images[:TRAIN_IMAGES].flatten(1)
    trainer = Trainer(recipe(ctx), data, device="cpu")
    bar = st.progress(0.0, text="Training…")

    def progress(record):
        bar.progress(record["step"] / STEPS, text=f"Training: step {record['step']} of {STEPS}, KL {record['kl']:.2f}")

    history = probed_run(trainer, STEPS, EVERY, data[:PROBE].float() / 255, progress)
    bar.empty()
    return history


def curves_alt(history: list[dict], terms) -> str:
    """A text alternative for the run's curves: each line's first, highest and last value."""
    first, last = history[0], history[-1]
    lines = []
    for term in terms:
        peak = max(history, key=lambda r: r[term])
        lines.append(f"{plots.CURVE_NAMES[term]} {first[term]:.2f} at step {first['step']}, highest {peak[term]:.2f} "
                     f"at step {peak['step']}, {last[term]:.2f} at step {last['step']}")
    return f"Line chart against training step, in nats: {'; '.join(lines)}."


def draw(ctx) -> None:
    config = recipe(ctx)
    st.markdown("Training climbs the ELBO averaged over a batch of B images, by Adam's steps on the encoder's φ and "
                "the decoder's θ together: g is the gradient, m and v Adam's running means of g and g², and the "
                "step divides one by the square root of the other.")
    equation(r"g &= \nabla_{\theta,\phi}\, \frac{1}{B}\sum_{b=1}^{B} \mathrm{ELBO}(x_b)",
             r"\mathrm{ELBO}(x_b) &\approx \frac1L\sum_l \log p_\theta(x_b|z_b^{(l)})",
             r"&\quad - \mathrm{KL}\big(q_\phi(z|x_b)\,\|\,p(z)\big)",
             r"m &\leftarrow \beta_1 m + (1 - \beta_1)\, g",
             r"v &\leftarrow \beta_2 v + (1 - \beta_2)\, g^2",
             r"(\theta, \phi) &\leftarrow (\theta, \phi) + \eta\, \frac{\hat m}{\sqrt{\hat v} + \epsilon}",
             rf"B &= {config.batch_size},\ L = {config.mc_samples},\ \eta = {config.lr:g}")
    st.caption("m̂ and v̂ are m and v corrected for starting at 0; β₁ = 0.9, β₂ = 0.999 (PyTorch's Adam).")
    st.caption(f"The run trains a fresh 2-D model of this data set (one hidden layer of 256 units, a Gaussian "
               f"decoder at σ_dec = {config.sigma_dec:g}, seed {config.seed}) on {TRAIN_IMAGES:,} training images.")
    key = history_key(ctx)
    if st.button(f"Train a 2-D model for {STEPS} steps (a few seconds)", key="learn_train"):
        st.session_state[key] = train_short(ctx)
    history = st.session_state.get(key)
    if history:
        first, last = history[0], history[-1]
        equation(rf"\text{{step {first['step']}: ELBO}} &= {number(first['elbo'])},\ \mathrm{{KL}} = "
                 rf"{number(first['kl'])}",
                 rf"\text{{step {last['step']}: ELBO}} &= {number(last['elbo'])},\ "
                 rf"\mathrm{{KL}} = {number(last['kl'])}")
        st.caption(f"Measured on the same {PROBE} training images at step 0 and after every {EVERY} steps (the KL "
                   "exact, the reconstruction term with one fixed draw of z per image): the values at those steps, "
                   "not means over the steps between.")
        left, right = st.columns(2)
        for column, (caption, spec), terms in zip((left, right), plots.curve_panels(history), plots.CURVE_PANELS):
            column.caption(caption)
            column.vega_lite_chart(spec=spec, width="stretch", alt=curves_alt(history, terms))
        st.page_link("pages/train.py", label="Train live, with play, pause and every setting",
                     icon=":material/model_training:")
    st.caption("Try: predict first, then press Train and watch both curves.")
    ask(QUESTION, ctx)


def answer(ctx):
    history = st.session_state.get(history_key(ctx))
    if not history:
        return "Train first", "Press the Train button above: the answer comes from its run."
    first, last = history[0], history[-1]
    peak = max(history, key=lambda r: r["kl"])
    if peak["kl"] < 1:
        right = "It stays near 0"
    else:
        right = "It rises, then falls back" if last["kl"] < 0.8 * peak["kl"] else "It rises and keeps rising"

    def parts(record):
        means = record["mu_squared"] / 2
        return f"{means:.2f} + {record['kl'] - means:.2f}"

    return right, (f"KL {first['kl']:.2f} nats at step 0, {peak['kl']:.2f} at its peak (step {peak['step']}), "
                   f"{last['kl']:.2f} at step {last['step']}. It is ½‖μ‖² + ½Σᵢ(σᵢ² − 1 − log σᵢ²), averaged over "
                   f"the images: {parts(peak)} at the peak, {parts(last)} at the end. The first part is the codes' "
                   "distance from the prior's centre, the second what q's σ pays for differing from 1.")


QUESTION = Question("training-kl", f"The untrained encoder's q is close to the prior, so the KL starts near 0. "
                    f"Over {STEPS} steps of training, what does it do?",
                    ("It rises and keeps rising", "It rises, then falls back", "It stays near 0"), answer)
STEP = Step("training", "Training", draw, QUESTION)
