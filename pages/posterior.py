"""True posterior vs q: p(z|x) on a grid for a 2-D model, q(z|x)'s ellipses, and the ELBO's gap two ways."""
import streamlit as st

from ui import images, plots, store, url_state
from ui.sidebar import choose_model, data_notice
from vae.data import DATASETS

info = choose_model()
if info is None:
    st.stop()
config = info.config
st.header("The true posterior and the ELBO's gap")
if config.latent_dim != 2:
    st.info(f"This model has a {config.latent_dim}-D latent space. The true posterior is computed on a grid over "
            "the latent plane, so it needs a 2-D model: choose one in the sidebar.")
    st.stop()

test, _ = store.dataset(config.dataset, "test")
data_notice(test)
state = st.session_state
sigma_options = list(store.SIGMA_CHOICES) if config.likelihood == "gaussian" else [config.sigma_dec]
url_state.restore("posterior", {"index": url_state.integer(0, len(test) - 1),
                                "sigma": url_state.choice(sigma_options)})
if state.get("posterior_model") != info.name:
    state["posterior_model"] = info.name
    if state.get("posterior_sigma") not in sigma_options:
        state["posterior_sigma"] = min(sigma_options, key=lambda s: abs(s - config.sigma_dec))
state.setdefault("posterior_index", 0)

top = st.columns([2, 1])
if config.likelihood == "gaussian":
    top[0].select_slider("σ_dec — the decoder's noise", options=sigma_options, key="posterior_sigma",
                         help="The encoder q stays as trained; the true posterior p(z|x) ∝ p(x|z)p(z) moves with σ_dec.")
else:
    top[0].caption("Bernoulli decoder: no σ_dec to move.")
    state["posterior_sigma"] = config.sigma_dec
top[1].number_input("Test digit", 0, len(test) - 1, key="posterior_index")
index, sigma = int(state["posterior_index"]), float(state["posterior_sigma"])
url_state.publish("posterior", {"index": index, "sigma": sigma if config.likelihood == "gaussian" else None})

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
