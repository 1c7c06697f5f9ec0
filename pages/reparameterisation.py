"""The reparameterisation and the Monte-Carlo ELBO: z = μ + σ ⊙ ε, L samples, their mean log p(x|z)."""
import numpy as np
import streamlit as st

from ui import charts, images, metrics, plots, store
from ui.latent_view import scatter_view
from ui.sidebar import chosen_model, data_notice
from vae.data import DATASETS

info = chosen_model()
config = info.config
dataset = DATASETS[config.dataset]
noun = dataset.noun
state = st.session_state
st.header("The reparameterisation and the Monte-Carlo ELBO")
st.caption("Training never computes E_q[log p(x|z)] exactly: it draws ε ~ N(0, I), sets z = μ + σ ⊙ ε — so the "
           "gradient flows through μ and σ — decodes z and scores x under p(x|z). The tutorial's estimate is the "
           "mean of L such scores, (1/L) Σₗ log p(x|z⁽ˡ⁾), minus the KL in closed form.")

test, _ = store.dataset(config.dataset, "test")
data_notice(test)
drawing = state.get("draw_framed")  # the Draw page's last drawing, framed like MNIST


def resample() -> None:
    state["sampling_seed"] = int(state.get("sampling_seed", 0)) + 1


controls = st.columns([1.2, 1, 1.4, 1.4])
sources = [f"a test {noun}"] + (["your drawing"] if drawing is not None else [])
source = controls[0].radio("Image", sources, key="sampling_source", persist_state="session")
index = int(controls[1].number_input(f"Test {noun}", 0, len(test) - 1, 0, key="sampling_index", bind="query-params",
                                     persist_state="session", disabled=source != sources[0]))
samples = controls[2].slider("L, samples of ε", 1, 64, 8, key="sampling_l", bind="query-params", persist_state="session")
seed_row = controls[3].container(horizontal=True, vertical_alignment="bottom")
seed = int(seed_row.number_input("Seed of ε", 0, 10**6, 0, key="sampling_seed", bind="query-params",
                                 persist_state="session"))
seed_row.button("Resample ε", on_click=resample, key="sampling_resample", width="content")

from vae.generate import estimate_spread, monte_carlo_elbo, std_with_error  # noqa: E402  (torch: after the controls)
import torch  # noqa: E402

x = drawing if source == "your drawing" else test.images[index].numpy() / 255.0
image_name = "your drawing" if source == "your drawing" else f"test #{index}"
x_tensor = torch.from_numpy(np.asarray(x, dtype=np.float32))
model = store.load_model(info).model
mc = monte_carlo_elbo(model, x_tensor, samples, seed)

if samples >= 2:
    spread, error = std_with_error(mc.log_px_given_z, seed=seed)
    spread_metric = ("std of the L scores log p(x|z⁽ˡ⁾)", f"{spread:.2f} ± {error:.2f}",
                     "The sample standard deviation of the L scores, ± its standard error by the bootstrap. One score "
                     "far in the tail can make it larger at a large L than at a small one: the error says how far to "
                     "trust it.")
else:
    spread_metric = ("std of the L scores log p(x|z⁽ˡ⁾)", "–", "A spread needs at least two samples: set L ≥ 2.")
metrics.row([(f"(1/L) Σ log p(x|z⁽ˡ⁾), L = {samples}", f"{mc.reconstruction:.2f}"),
             ("KL(q ‖ p(z)), closed form", f"{mc.kl:.3f}"), ("ELBO estimate", f"{mc.elbo:.2f}"), spread_metric])

left, right = st.columns([1, 1])
with left:
    view = scatter_view(info, "sampling")
    if view.invertible and config.latent_dim > 1:
        from vae.latent import ellipse  # noqa: E402

        if view.projection is None:
            centre, cov = mc.mu, np.diag(mc.sigma**2)
        else:
            centre, cov = view.projection.gaussian(mc.mu, mc.sigma)
        curves = {f"q(z|x), {k}σ": ellipse(centre, cov, k) for k in (1, 2)}
        # Zoomed onto q: its σ is often a few hundredths of the scatter's width, where samples would hide under ×
        outer = ellipse(centre, cov, 3.5)
        half = max(float((outer.max(0) - outer.min(0)).max()) / 2, 0.05)
        zoom = ((centre[0] - half, centre[0] + half), (centre[1] - half, centre[1] + half))
        figure = plots.latent_scatter(view.coords, view.labels, dataset.classes, zoom,
                                      marker=(float(centre[0]), float(centre[1])), samples=view.to_plot(mc.z),
                                      curves=curves, axis_titles=view.axis_titles, height=440, opacity=0.25)
        charts.show(figure, f"{info.name} · {image_name} · L = {samples} samples of z = μ + σ ⊙ ε (seed {seed})",
                    key="sampling_scatter",
                    alt=f"Zoomed onto q(z|x) of {image_name}: its mean μ = (" + ", ".join(f"{v:.2f}" for v in centre)
                        + f") as ×, its 1σ and 2σ ellipses, and the {samples} samples z = μ + σ ⊙ ε as white dots, "
                        f"among the test codes nearby; {view.axis_titles[0]} from {zoom[0][0]:.2f} to "
                        f"{zoom[0][1]:.2f}, {view.axis_titles[1]} from {zoom[1][0]:.2f} to {zoom[1][1]:.2f}.")
        st.caption("Zoomed onto q(z|x): × is μ; the crimson ellipses are its 1σ and 2σ contours"
                   + (" seen on the PCA plane" if config.latent_dim > 2 else "") + "; white dots are the L samples z⁽ˡ⁾; "
                   "the coloured dots are test codes nearby.")
    else:
        st.info("A t-SNE map has no place for new points: choose PCA to see the samples around μ.")
with right:
    images.show(images.enlarge(images.to_uint8(np.asarray(x)), 4),
                f"x, the image scored: {image_name}", caption="x, the image scored")
    per_dim = [{"dimension": f"z{i + 1}", "μ": mc.mu[i], "σ": mc.sigma[i], "ε⁽¹⁾": mc.eps[0, i], "z⁽¹⁾ = μ + σ·ε⁽¹⁾": mc.z[0, i]}
               for i in range(min(config.latent_dim, 16))]
    st.dataframe(per_dim, hide_index=True, height=min(36 * len(per_dim) + 40, 320))

shown = min(samples, 16)
st.subheader(f"Each sample decoded, with its log p(x|z⁽ˡ⁾) ({shown} of {samples} shown)")
columns = st.columns(8)
for k in range(shown):
    images.show(images.enlarge(images.to_uint8(mc.images[k].reshape(config.image_shape)), 3),
                f"Sample {k + 1} decoded, decode(z⁽{k + 1}⁾), log p(x|z) = {mc.log_px_given_z[k]:.1f}",
                container=columns[k % 8], caption=f"z⁽{k + 1}⁾: {mc.log_px_given_z[k]:.1f}")

st.subheader("How the estimate's spread falls with L")
spread = store.estimate_spread_for(info, index) if source != "your drawing" else estimate_spread(model, x_tensor)
charts.show(plots.spread_against_samples(spread, samples), f"{info.name} · {image_name} · the estimate's spread "
            "against L", key="sampling_spread",
            alt=f"The standard deviation of the Monte-Carlo reconstruction term for {image_name} against L (log axes), "
                "with error bars, beside a dashed 1/√L line: "
                + ", ".join(f"{spread[k][0]:.2f} at L = {k}" for k in sorted(spread)) + f"; L = {samples} is marked.")
st.caption("The standard deviation of (1/L) Σ log p(x|z⁽ˡ⁾) over 200 fresh draws of ε, for each L: it falls as "
           "1/√L (dashed), because the L scores are independent. One sample is enough for an unbiased gradient; "
           "more samples only make the estimate steadier.")
