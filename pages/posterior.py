"""True posterior vs q: p(z|x) on a grid for a 2-D model, q(z|x)'s ellipses, and the ELBO's gap two ways."""
import streamlit as st

from ui import images, plots, store
from ui.sidebar import chosen_model, data_notice
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
state = st.session_state
gaussian = config.likelihood == "gaussian"
options = list(store.SIGMA_CHOICES)
nearest = min(options, key=lambda s: abs(s - config.sigma_dec))
if state.get("posterior_for", info.name) != info.name:  # another model: start at its σ
    state["posterior_sigma"] = nearest
state["posterior_for"] = info.name

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
    st.plotly_chart(plots.posterior_contours(post.xs, post.ys, post.log_posterior, post.mu, post.sigma,
                                             post.posterior_mean), key="posterior_plot")
with right:
    x = test.images[index].numpy() / 255.0
    st.image(images.enlarge(images.to_uint8(x), 5),
             caption=f"test #{index}: {DATASETS[config.dataset].classes[test.labels[index]]}")
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
    st.caption(f"The two ways to the gap differ by {agree:.2f} nats "
               f"({100 * agree / max(abs(post.gap), 1e-9):.1f} % of it): Monte-Carlo error of the ELBO and the grid's "
               f"resolution ({len(post.xs)}×{len(post.ys)} cells over the window shown).")

st.markdown(
    """
**Reading it.** The blue contours are the true posterior p(z|x) = p(x|z)p(z)/p(x), computed on a grid; the red
ellipses are the encoder's Gaussian guess q(z|x) at 1σ and 2σ. Because log p(x) = ELBO + KL(q ‖ p(z|x)), the
ELBO falls short of the evidence by exactly how far q is from the true posterior: the table computes that gap
both ways. A small σ_dec makes p(x|z) sharp, the true posterior narrow and oddly shaped, and the gap large;
a large σ_dec makes the posterior close to the prior and the gap small. IWAE tightens the bound as K grows,
but with a poor proposal q it can stay well below the grid's answer.
"""
)
