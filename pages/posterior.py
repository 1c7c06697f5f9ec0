"""True posterior vs q: p(z|x) on a grid for a 2-D model, q(z|x)'s ellipses, and the ELBO's gap two ways."""
import streamlit as st

from ui import charts, images, plots, store
from ui.sidebar import chosen_model, data_notice, models_sigma
from vae.data import DATASETS

info = chosen_model()
config = info.config
noun = DATASETS[config.dataset].noun
st.header("The true posterior and the ELBO's gap")
if config.latent_dim != 2:
    st.info(f"This model has a {config.latent_dim}-D latent space. The true posterior is computed on a grid over "
            "the latent plane, so it needs a 2-D model: choose one in the sidebar.")
    st.stop()

test, _ = store.dataset(config.dataset, "test")
data_notice(test)
gaussian = config.likelihood == "gaussian"
GAP_SIGMAS = (0.05, 0.1, 0.2, 0.3, 0.5, 1.0, 2.0)  # the σ_dec values of the gap curve
options = list(store.SIGMA_CHOICES)
nearest = models_sigma("posterior_sigma", info)  # the model's own σ_dec, where the slider starts

top = st.columns([2, 1])
if gaussian:
    sigma = top[0].select_slider(
        "σ_dec — the decoder's noise", options=options, value=nearest, key="posterior_sigma", bind="query-params",
        persist_state="session", help="The encoder q stays as trained; the true posterior p(z|x) ∝ p(x|z)p(z) moves with σ_dec.")
else:
    top[0].caption("Bernoulli decoder: no σ_dec to move.")
    sigma = config.sigma_dec
index = int(top[1].number_input(f"Test {noun}", 0, len(test) - 1, 0, key="posterior_index", bind="query-params",
                                persist_state="session"))
sigma = float(sigma)

with st.spinner("Integrating p(x|z)p(z) over the latent plane…"):
    post = store.true_posterior_for(info, index, sigma)

left, right = st.columns([3, 2])
with left:
    zoom = (post.q_xs, post.q_ys, post.q_log_posterior) if plots.q_is_small(post.xs, post.ys, post.sigma) else None
    charts.show(plots.posterior_contours(post.xs, post.ys, post.log_posterior, post.mu, post.sigma,
                                         post.posterior_mean, zoom=zoom),
                f"{info.name} · test #{index} · σ_dec = {sigma:g}", key="posterior_plot",
                alt=f"Contours of the true posterior p(z|x) for test #{index} at σ_dec = {sigma:g}, its mean at "
                    f"({post.posterior_mean[0]:.2f}, {post.posterior_mean[1]:.2f}), under the encoder's q(z|x) drawn as "
                    f"its 1σ and 2σ ellipses around μ = ({post.mu[0]:.2f}, {post.mu[1]:.2f}) with σ = "
                    f"({post.sigma[0]:.3f}, {post.sigma[1]:.3f}); z₁ from {post.xs[0]:.1f} to {post.xs[-1]:.1f}, z₂ "
                    f"from {post.ys[0]:.1f} to {post.ys[-1]:.1f}"
                    + ("; a second panel zooms onto q, which is small beside the posterior." if zoom is not None
                       else "."))
    if zoom is not None:
        st.caption("q(z|x) is small beside the true posterior at this σ_dec: the right panel zooms onto it (±5σ of q), "
                   "with p(z|x) on the same cells.")
with right:
    x = test.images[index].numpy() / 255.0
    label = DATASETS[config.dataset].classes[test.labels[index]]
    images.show(images.enlarge(images.to_uint8(x), 5), f"Test {noun} #{index}, a {label}",
                caption=f"test #{index}: {label}")
    agree = abs(post.gap - post.kl_q_posterior_grid)
    st.markdown(
        f"""
| quantity | nats |
|---|---:|
| log p(x), grid integral | **{post.log_px_grid:.2f}** |
| log p(x), IWAE (K = {store.POSTERIOR_IW_SAMPLES:,}) | {post.log_px_iwae:.2f} |
| ELBO (Monte Carlo, L = {store.POSTERIOR_MC_SAMPLES:,}) | {post.elbo:.2f} |
| gap = log p(x) − ELBO | **{post.gap:.2f}** |
| KL(q ‖ p(z\\|x)), quadrature | **{post.kl_q_posterior_grid:.2f}** |
""")
    st.caption(f"log p(x) is summed on {post.evidence_cells}×{post.evidence_cells} cells over the posterior's mass, "
               f"refined until halving the cells moved it by less than 0.01 nats (the last halving: "
               f"{post.evidence_change:.4f}). The two ways to the gap differ by {agree:.2f} nats "
               f"({100 * agree / max(abs(post.gap), 1e-9):.1f} % of it): the Monte-Carlo error of the ELBO.")

st.markdown(
    """
**Reading it.** The blue contours are the true posterior p(z|x) = p(x|z)p(z)/p(x), computed on a grid; the red
ellipses are the encoder's Gaussian guess q(z|x) at 1σ and 2σ. Because log p(x) = ELBO + KL(q ‖ p(z|x)), the
ELBO falls short of the evidence by exactly how far q is from the true posterior: the table computes that gap
both ways. IWAE tightens the bound as K grows, but with a poor proposal q it can stay well below the grid's answer.
"""
)
st.page_link("pages/gaps.py", label="Why is the gap not zero? Its two parts", icon=":material/join_inner:")
if gaussian:
    st.subheader(f"The gap across σ_dec, for this {noun}")
    sigmas = sorted(set(GAP_SIGMAS) | {float(config.sigma_dec)})
    with st.spinner(f"KL(q ‖ p(z|x)) by quadrature at {len(sigmas)} values of σ_dec…"):
        gaps = store.posterior_gaps_for(info, index, tuple(sigmas))
    from vae.posterior import smallest_gap  # noqa: E402

    best, steady = smallest_gap(sigmas, gaps)
    chart, words = st.columns([3, 2])
    charts.show(plots.gap_against_sigma(sigmas, gaps, config.sigma_dec, sigma),
                f"{info.name} · test #{index} · the gap against σ_dec", key="posterior_gap_curve", container=chart,
                alt=f"The gap log p(x) − ELBO for test #{index} against σ_dec (log axis), at {len(sigmas)} values: "
                    + ", ".join(f"{g:.2f} nats at {s:g}" for s, g in zip(sigmas, gaps))
                    + f"; smallest at σ_dec = {best:g}; the trained σ_dec {config.sigma_dec:g} and the chosen "
                      f"{sigma:g} are marked.")
    trained = f"{config.sigma_dec:g}"
    where = ("at the σ_dec the model was trained at" if f"{best:g}" == trained else
             f"at σ_dec = {best:g}, {'above' if best > config.sigma_dec else 'below'} the {trained} the model was "
             "trained at")
    words.markdown(
        f"For this {noun} the gap is smallest {where} (σ_dec = {best:g}: {min(gaps):.2f} nats)"
        + (", and it grows on both sides: " if steady else "; away from there it grows, though not steadily: ")
        + f"{gaps[0]:.1f} nats at σ_dec = {sigmas[0]:g}, {gaps[-1]:.1f} at {sigmas[-1]:g}.\n\n"
        "Why: the encoder q keeps the widths it learnt, while σ_dec sets how sharply p(x|z) falls off around the "
        "best codes. Below the smallest gap, the true posterior shrinks far inside q (halve σ_dec and its width "
        "roughly halves), so the gap grows fast; above it, the posterior spreads out towards the prior p(z), far "
        "wider than q, and the gap grows slowly. Where it is smallest depends on how close to a Gaussian of q's "
        f"widths this {noun}'s posterior is at each σ_dec.")
