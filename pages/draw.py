"""Draw your own digit or garment: scaled and centred like MNIST, encoded — where it lands, how it comes back, its ELBO."""
import streamlit as st

from ui import charts, images, links, metrics, plots, store
from ui.draw_canvas import draw_canvas
from ui.latent_view import scatter_view
from ui.sidebar import chosen_model
from vae.data import DATASETS

info = chosen_model()
config = info.config
classes = DATASETS[config.dataset].classes
st.header(f"Draw your own {DATASETS[config.dataset].noun}")
st.caption("Draw with the mouse (or a finger). After each stroke the drawing is cropped, scaled to fit 20×20 "
           "pixels and centred by its centre of mass in a 28×28 field — the way MNIST's digits were made — then "
           "encoded by the model.")

state = st.session_state
left, middle, right = st.columns([1.1, 1, 1.6])
with left:
    drawing = draw_canvas("draw_canvas", clear_token=state.get("draw_clear", 0))

drew = drawing is not None and drawing.max() > 0.1
if not drew and not state.get(links.LINKED_DRAWING):
    with middle:
        st.info("Draw on the black square.")
    st.stop()

from vae.preprocess import mnist_style  # noqa: E402
from vae.probe import encode_one  # noqa: E402

if drew:
    x = mnist_style(drawing)
    state[links.DRAWING], state[links.LINKED_DRAWING] = x, False  # for the reparameterisation page, and links
else:
    x = state[links.DRAWING]  # the drawing its link carried
    left.caption("Showing the drawing from the link; draw to replace it.")
model = store.load_model(info).model
probe = encode_one(model, x)
with middle:
    images.show(images.enlarge(images.to_uint8(x), 5), "Your drawing, cropped, scaled and centred in 28×28 pixels "
                "as MNIST frames its digits", caption="your drawing, as MNIST frames it (28×28)")
    images.show(images.enlarge(images.to_uint8(probe.reconstruction), 5),
                f"The model's reconstruction of your drawing, decode(μ); its ELBO {probe.elbo:.1f} nats",
                caption="its reconstruction, decode(μ)")
with right:
    view = scatter_view(info, "draw")
    at = view.to_plot(probe.mu)[0] if view.invertible else None  # a t-SNE map has no place for a new point
    figure = plots.latent_scatter(view.coords, view.labels, classes, view.ranges,
                                  marker=None if at is None else (float(at[0]), float(at[1])),
                                  axis_titles=view.axis_titles, height=420, opacity=0.35)
    charts.show(figure, f"{info.name} · your drawing's μ among the test codes", key="draw_scatter",
                alt=plots.describe_scatter(view.coords, view.labels, classes, view.axis_titles,
                                           "the test set's latent means"
                                           + ("" if at is None else
                                              f", with your drawing's μ as × at ({at[0]:.2f}, {at[1]:.2f})")))
    st.caption("A t-SNE map cannot place a new point: choose PCA to see where your drawing lands." if at is None else
               "× marks your drawing's μ among the test set's codes" +
               (" (projected with the same map)." if config.latent_dim > 2 else "."))

metrics.row([("Reconstruction E_q[log p(x|z)]", f"{probe.reconstruction_term:.1f}"), ("KL(q ‖ p(z))", f"{probe.kl:.2f}"),
             ("ELBO", f"{probe.elbo:.1f}"), (f"IWAE log p(x) (K={probe.iw_samples})", f"{probe.log_px_iwae:.1f}"),
             ("Test-set mean ELBO", f"{info.metrics['test']['elbo']:.1f}" if "test" in info.metrics else "–")])
st.caption("Nats per image. A drawing the model finds unusual has a low ELBO: compare it with the test digits' mean. "
           + ("This model was trained on binarised digits; your grey drawing is scored as given."
              if config.binarize else ""))
