"""Explore: the test set's latent means, a point's reconstruction, any z decoded, the manifold grid."""
import numpy as np
import streamlit as st

from ui import images, plots, store, url_state
from ui.latent_pad import latent_pad
from ui.latent_view import new_click, scatter_view
from ui.sidebar import choose_model, data_notice
from vae.data import DATASETS

info = choose_model()
if info is None:
    st.stop()
config = info.config
d = config.latent_dim
classes = DATASETS[config.dataset].classes
st.header("Explore the latent space")
st.caption("Each dot is a test digit at the mean of q(z|x). Click a dot to see it and its reconstruction; "
           "click empty space, or move the sliders, to decode any z.")

if d > 2:
    url_state.restore("explore", {"projection": url_state.choice(["pca", "tsne"])})
view = scatter_view(info, "explore")
limits = [(-4.0, 4.0)] * d if d > 2 else [view.ranges[0], view.ranges[1]][:d]
state = st.session_state
if state.get("explore_model") != info.name:  # a new model: forget the old selection
    state.update(explore_model=info.name, explore_index=None)
    for i in range(d):
        state[f"explore_z{i}"] = 0.0 if d > 2 else float(np.mean(limits[i]))
linked = url_state.restore("explore", {"index": url_state.integer(0, len(view.means) - 1),
                                       "z": url_state.vector(d, -1e3, 1e3)})
for i, value in enumerate(linked.get("z", [])):
    state[f"explore_z{i}"] = float(np.clip(value, *limits[i]))

click = new_click("explore_scatter")
if click is not None:
    kind, index, x, y = click
    z = view.means[index] if kind == 0 else view.to_latent(x, y)
    if kind == 0:
        state["explore_index"] = index
    if z is None:
        st.toast("A t-SNE map cannot be inverted: use PCA, or the sliders, to decode any z.")
    else:
        for i in range(d):
            state[f"explore_z{i}"] = float(np.clip(z[i], *limits[i]))
z = np.array([state[f"explore_z{i}"] for i in range(d)], dtype=np.float32)
url_state.publish("explore", {"index": state.get("explore_index"), "z": [round(float(v), 3) for v in z],
                              "projection": state.get("explore_projection") if d > 2 else None})

left, right = st.columns(2)
with left:
    marker = tuple(view.to_plot(z)[0]) if view.invertible else None
    figure = plots.latent_scatter(view.coords, view.labels, classes, view.ranges, selected=state.get("explore_index"),
                                  marker=marker, axis_titles=view.axis_titles)
    st.plotly_chart(figure, key="explore_scatter", on_select="rerun", selection_mode="points",
                    config={"scrollZoom": True})

# The decoder runs in numpy: this page never imports torch (the scatter draws without waiting for it).
decoder = store.decoder(info)
state.setdefault("explore_grid_n", 15)
n = state["explore_grid_n"]
with right:
    if d >= 2 and view.invertible:
        xs, ys = np.linspace(*view.ranges[0], n), np.linspace(*view.ranges[1], n)
        plane = np.stack(np.meshgrid(xs, ys), -1).reshape(-1, 2)  # row i, column j: (xs[j], ys[i])
        z_grid = plane if d == 2 else view.projection.to_latent(plane)
        grid = decoder.decode(z_grid).reshape(n, n, *config.image_shape)
        st.plotly_chart(plots.manifold(grid, xs, ys, view.ranges, axis_titles=view.axis_titles),
                        key="explore_manifold")
        if d > 2:
            st.caption("Decoded over the PCA plane through the mean of the test codes.")
    else:
        st.info("The manifold grid needs a 2-D latent space or a PCA plane; t-SNE cannot be inverted.")
    st.slider("Manifold grid size", 5, 25, key="explore_grid_n")

c1, c2, c3 = st.columns([1, 1, 3])
index = state.get("explore_index")
with c1:
    st.subheader("Selected digit")
    if index is None:
        st.caption("Click a dot in the scatter.")
    else:
        test, _ = store.dataset(config.dataset, "test")
        data_notice(test)
        if index < len(test):
            st.image(images.enlarge(images.to_uint8(test.images[index].numpy() / 255.0), 6),
                     caption=f"test #{index}: {classes[test.labels[index]]}")
        else:
            st.caption(f"test #{index} ({classes[view.labels[index]]}): the image is not in the shipped sample.")
with c2:
    st.subheader("Reconstruction")
    if index is not None:
        recon = decoder.decode(view.means[index][None])[0]
        st.image(images.enlarge(images.to_uint8(recon), 6), caption="decode(μ)")
with c3:
    st.subheader("Drag to decode")
    if d >= 2:
        dims = (0, 1)
        if d > 2:
            pick = st.columns(2)
            dims = (pick[0].selectbox("Pad x", range(d), 0, format_func=lambda i: f"z{i + 1}", key="pad_x"),
                    pick[1].selectbox("Pad y", range(d), 1, format_func=lambda i: f"z{i + 1}", key="pad_y"))
        pad_ranges = view.ranges if d == 2 else plots.extent(view.means[:, list(dims)])
        released = latent_pad(f"{info.name}:{info.path.stat().st_mtime_ns}", decoder, view.means, view.labels,
                              dims, pad_ranges, z, key="explore_pad")
        st.caption("Decoded in your browser on every frame while you drag" +
                   (f"; z{dims[0] + 1}, z{dims[1] + 1} on the pad, sliders for the rest." if d > 2 else "."))
        if released is not None and released != state.get("explore_pad_seen"):
            state["explore_pad_seen"] = released
            for i in range(d):
                state[f"explore_z{i}"] = float(np.clip(released[i], *limits[i]))
            st.rerun()

with st.expander("Server-side decoding (sliders)", expanded=d == 1):
    st.caption("The same decoder run on the server: each slider change is a round trip.")
    inner_left, inner_right = st.columns([1, 2])
    with inner_right:
        for i in range(d):
            st.slider(f"z{i + 1}", float(limits[i][0]), float(limits[i][1]), step=0.01, key=f"explore_z{i}")
    with inner_left:
        st.image(images.enlarge(images.to_uint8(decoder.decode(z[None])[0]), 6),
                 caption="z = (" + ", ".join(f"{v:.2f}" for v in z[:4]) + (", …)" if d > 4 else ")"))
