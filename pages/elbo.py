"""ELBO decomposition: reconstruction, constant and KL as σ_dec moves, for one digit and a test batch."""
import streamlit as st

from ui import charts, images, metrics, plots, store
from ui.sidebar import chosen_model, data_notice, models_sigma
from ui.sweep_view import trained_at_each_sigma
from vae.data import DATASETS

info = chosen_model()
config = info.config
noun = DATASETS[config.dataset].noun
st.header("ELBO decomposition")
MODES = ["this model: σ_dec changed alone", "a model trained at each σ_dec"]
mode = st.radio("What moves with σ_dec", MODES, key="elbo_mode", bind="query-params", persist_state="session",
                horizontal=True, help="This model's decoder scored at other σ_dec values (its KL cannot move), or the "
                                      "shipped sweep: a model trained at each σ_dec, so both terms move.")
if mode == MODES[1]:
    trained_at_each_sigma(info)
    st.stop()
st.caption("**Mode: this model, σ_dec changed alone.** The encoder and decoder stay as trained; only the σ_dec "
           "that scores the reconstruction moves, so the KL term stays where it is.")
if config.likelihood != "gaussian":
    st.info("This model has a Bernoulli decoder: there is no σ_dec to move. Choose a Gaussian model in the "
            "sidebar to see the reconstruction term, the constant and the KL trade places as σ_dec changes.")
    st.stop()

test, _ = store.dataset(config.dataset, "test")
data_notice(test)
options = list(store.SIGMA_CHOICES)
nearest = models_sigma("elbo_sigma", info)  # the model's own σ_dec, where the slider starts
top = st.columns([2, 1, 1])
sigma = top[0].select_slider("σ_dec — the decoder's noise (log scale)", options=options, value=nearest,
                             key="elbo_sigma", bind="query-params", persist_state="session")
index = top[1].number_input(f"Test {noun}", 0, len(test) - 1, 0, key="elbo_index", bind="query-params",
                            persist_state="session")
unit = top[2].radio("Unit", ["nats per image", "bits per dim"], key="elbo_unit", bind="query-params",
                    persist_state="session")

sweep = store.sigma_sweep_for(info, index)
i = store.SIGMA_GRID.index(sigma)
in_nats = unit == "nats per image"
terms = sweep.in_nats() if in_nats else sweep.in_bits()
values = {name: (float(v[i, 0]), float(v[i, 1:].mean())) for name, v in terms.parts.items()}
digits = 2 if in_nats else 4  # a KL of 15 nats is 0.0276 bits/dim: two decimals would read 0.03
if not in_nats:
    top[2].caption("Bits per dimension of 8-bit pixels, (−log p + D·ln 256)/(D·ln 2): costs, lower is better.")

metrics.row([
    (f"Reconstruction term (this {noun})" if in_nats else f"Reconstruction cost (this {noun})",
     f"{terms.reconstruction[i, 0]:.{digits}f}"),
    ("KL term" if in_nats else "KL cost", f"{terms.kl[i, 0]:.{digits}f}"),
    (f"ELBO (this {noun})" if in_nats else f"−ELBO, bits/dim (this {noun})", f"{terms.total[i, 0]:.{digits}f}"),
    (f"σ* for this {noun}", f"{sweep.sigma_star[0]:.3f}"),
    ("equivalent β = 2σ²", f"{sweep.betas()[i]:.4g}")])
st.caption(f"The reconstruction term, and so the ELBO, are Monte-Carlo estimates from L = {store.SWEEP_SAMPLES} "
           "draws of z (seed 0), the same draws at every σ_dec; the KL is exact. Other draws give another estimate: the "
           "guided path's steps use more draws and give each estimate's standard error.")
axis = unit if in_nats else "bits per dim, 8-bit (lower is better)"

left, right = st.columns([3, 2])
with left:
    charts.show(plots.grouped_bars(values, axis, f"this {noun}", digits),
                f"{info.name} · test #{index} and the batch of {store.BATCH} · σ_dec = {sigma:g}", key="elbo_bars",
                alt=f"The ELBO's terms at σ_dec = {sigma:g} for test #{index} and the mean of the first "
                    f"{store.BATCH} test {noun}s. "
                    + plots.describe_bars(values, (f"this {noun}", "batch mean"), axis, digits))
with right:
    x = test.images[index].numpy() / 255.0
    label = DATASETS[config.dataset].classes[test.labels[index]]
    images.show(images.enlarge(images.to_uint8(x), 5), f"Test {noun} #{index}, a {label}",
                caption=f"test #{index}: {label}")

total = "ELBO" if in_nats else "−ELBO"
# The reconstruction term's two parts, not their sum: for a 2-D model the KL is a few nats, and the sum ran under
# the ELBO's line over the whole axis (one of four lines could not be seen).
curves = {f"{total}, this {noun}": terms.total[:, 0], f"{total}, batch mean": terms.total[:, 1:].mean(1)}
curves.update({name if "log 2πσ²" in name else f"{name}, batch mean": values[:, 1:].mean(1)
               for name, values in terms.parts.items() if name != total})
charts.show(plots.sigma_curves(sweep.sigmas, curves, sigma, sweep.sigma_star_batch, axis),
            f"{info.name} · the ELBO's terms against σ_dec · test #{index} and the batch of {store.BATCH}",
            key="elbo_curves",
            alt="The ELBO's terms as σ_dec moves, the model unchanged (log axis). "
                + plots.describe_curves(sweep.sigmas, curves, "σ_dec", axis, at=sigma,
                                        marks={"σ_dec (solid)": sigma, "σ* (dashed)": sweep.sigma_star_batch}))
st.markdown(
    f"""
**Reading it.** log p(x|z) = −‖x − x̂‖²/(2σ²) − (D/2)·log(2πσ²). A small σ makes the squared-error term
harsh and the constant large; a big σ forgives errors but pays in the constant. For this fixed decoder the
best σ is **σ\\* = √MSE** per pixel: {sweep.sigma_star_batch:.3f} for the batch of {store.BATCH} test {noun}s
(dashed line), {sweep.sigma_star[0]:.3f} for this {noun}. The KL term does not depend on σ at all.

**The β-VAE link.** −ELBO = (1/(2σ²))·(‖x − x̂‖² + 2σ²·KL) + const, so training with σ_dec = {sigma:g}
optimises the same thing as a β-VAE on squared error with **β = 2σ² = {sweep.betas()[i]:.4g}**.
The model was trained with σ_dec = {config.sigma_dec:g}.
"""
)
