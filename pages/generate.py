"""Generate: new images decoded from the prior, where their codes fall, and latent traversals."""
import numpy as np
import streamlit as st

from ui import charts, images, plots, store
from ui.latent_view import scatter_view
from ui.sidebar import chosen_model, data_notice
from vae.data import DATASETS

info = chosen_model()
config = info.config
dataset = DATASETS[config.dataset]
noun = dataset.noun
gaussian = config.likelihood == "gaussian"
state = st.session_state
st.header(f"Generate new {noun}s from the prior")
st.caption("A VAE is a generative model: draw z ~ N(0, τ²I) and decode it. τ = 1 is the prior the model was "
           "trained against; a lower temperature τ draws from a narrower Gaussian, so the samples look more alike "
           "and more typical, and a higher one more varied and stranger.")

def resample() -> None:
    state["generate_seed"] = int(state.get("generate_seed", 0)) + 1


controls = st.columns([2, 1, 1.4, 2])  # Resample's word whole at 1024 px
temperature = controls[0].slider("Temperature τ", 0.1, 2.0, 1.0, 0.1, key="generate_tau", bind="query-params",
                                 persist_state="session")
seed = int(controls[1].number_input("Seed", 0, 10**6, 0, key="generate_seed", bind="query-params",
                                    persist_state="session"))
controls[2].button("Resample", on_click=resample, key="generate_resample", width="stretch")
shown = controls[3].radio("Show", ["mean image decode(z)", "a draw from p(x|z)"], key="generate_show",
                          bind="query-params", persist_state="session", horizontal=True)
draw = shown == "a draw from p(x|z)"
if draw:
    st.caption(f"x = decode(z) + σ_dec·ε with σ_dec = {config.sigma_dec:g}, clipped to [0, 1] for display. Papers show "
               f"the mean image: a real draw adds independent noise to every pixel, ±{config.sigma_dec:g} on a 0…1 scale — "
               "the noise the likelihood assumes, not structure the model learnt." if gaussian else
               "x_d ~ Bernoulli(decode(z)_d): each pixel black or white. Papers show the mean image, the pixels' "
               "probabilities: a draw sets every pixel independently — noise the likelihood assumes, not structure "
               "the model learnt.")

from vae.generate import images_from_codes, prior_codes, prior_radius  # noqa: E402  (torch: after the controls)

ROWS, COLS = 6, 8
model = store.load_model(info).model
z = prior_codes(ROWS * COLS, config.latent_dim, float(temperature), seed)
pictures = images_from_codes(model, z, draw=draw, seed=seed).numpy().reshape(ROWS, COLS, *config.image_shape)

left, right = st.columns([1, 1])
with left:
    images.show(images.enlarge(images.to_uint8(plots.tile(pictures, pad=1)), 3),
                f"A grid of {ROWS * COLS} {noun}s, {ROWS} rows of {COLS}, each "
                + ("a draw from p(x|z)" if draw else "the mean image decode(z)")
                + f" of a code z drawn from the prior N(0, τ²I), τ = {temperature:g}, seed {seed}", width="stretch",
                caption=f"{ROWS * COLS} samples, τ = {temperature:g}, seed {seed}")
    norms = z.norm(dim=1).numpy()
    radius = prior_radius(config.latent_dim, float(temperature))
    st.caption(f"Their codes lie at a distance {norms.mean():.2f} ± {norms.std():.2f} from the prior's centre; the "
               f"root-mean-square distance of z ~ N(0, τ²I) is √d·τ = {radius:.2f} (d = {config.latent_dim}). "
               + ("At d = 2 that is no shell: the distances spread from 0 to past 2τ." if config.latent_dim <= 2 else
                  "Most codes lie within τ of it, a shell that grows thinner relative to its radius as d grows."))
with right:
    view = scatter_view(info, "generate")
    placed = view.invertible and config.latent_dim > 1
    figure = plots.latent_scatter(view.coords, view.labels, dataset.classes, view.ranges,
                                  samples=view.to_plot(z.numpy()) if placed else None,
                                  axis_titles=view.axis_titles, height=440, opacity=0.3)
    charts.show(figure, f"{info.name} · {ROWS * COLS} prior samples (τ = {temperature:g}, seed {seed})",
                key="generate_scatter",
                alt=plots.describe_scatter(view.coords, view.labels, dataset.classes, view.axis_titles,
                                           "the test set's latent means" + (
                                               f", with the {ROWS * COLS} samples' codes as white dots ringed in "
                                               f"black, {norms.mean():.2f} from the centre on average"
                                               if placed else "")))
    st.caption("White dots: the samples' z" + (" projected onto the PCA plane" if config.latent_dim > 2 else "")
               + ", over the test set's codes." if placed else
               "A t-SNE map has no place for new points: choose PCA to see where the samples fall.")

if config.latent_dim > 2:
    st.subheader("Latent traversals")
    test, _ = store.dataset(config.dataset, "test")
    data_notice(test)
    from vae.generate import image_kl_per_dim, traversal, traversal_rows  # noqa: E402
    from vae.collapse import ACTIVE_THRESHOLD  # noqa: E402

    index = int(st.number_input(f"Hold the other dimensions at this test {noun}'s μ", 0, len(test) - 1, 0,
                                key="generate_index", bind="query-params", persist_state="session"))
    import torch  # noqa: E402

    base = torch.from_numpy(np.asarray(store.test_means(info)[0][index], dtype=np.float32))
    kl_per_dim = info.metrics.get("test", {}).get("kl_per_dim")
    source = "mean KL on the test set"
    if not kl_per_dim:  # a model without stored test figures: this image's own KL per dimension
        kl_per_dim = image_kl_per_dim(model, store.test_image(info, index))
        source = f"KL of test #{index}"
    plan = traversal_rows(kl_per_dim)
    order, inactive, hidden = plan.shown, plan.inactive, plan.hidden
    values = np.linspace(-3, 3, 9)
    rows = traversal(model, base, order, values).numpy().reshape(len(order), len(values), *config.image_shape)
    st.caption(f"Rows: dimensions ordered by {source}, largest first; columns: that dimension at "
               f"{', '.join(f'{v:g}' for v in values)}, the others held at test #{index}'s μ. A dimension whose KL "
               "is about 0 is unused by the model (collapsed): its row does not change.")
    for dim, row in zip(order, rows):
        label, strip = st.columns([1, 6], vertical_alignment="center")
        label.markdown(f"**z{dim + 1}**  \nKL {kl_per_dim[dim]:.2f}" + ("  \n*inactive*" if dim in inactive else ""))
        images.show(images.enlarge(images.strip(row), 2),
                    f"z{dim + 1} traversed: {len(values)} {noun}s decoded with z{dim + 1} from {values[0]:g} to "
                    f"{values[-1]:g}, the other dimensions at test #{index}'s μ"
                    + (" (inactive: they all look the same)" if dim in inactive else ""), container=strip)
    if hidden:
        st.caption(f"{len(hidden)} more inactive dimensions (KL ≤ {ACTIVE_THRESHOLD:g}) not shown: "
                   + ", ".join(f"z{d + 1}" for d in sorted(hidden)) + ".")
