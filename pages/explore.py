"""Explore: the test set's latent means, a point's reconstruction, any z decoded, the manifold grid."""
import numpy as np
import streamlit as st

from ui import charts, images, links, live_views, plots, store
from ui.latent_pad import latent_pad
from ui.latent_view import clicked, clip_to, scatter_view
from ui.sidebar import chosen_model, data_notice
from vae.data import DATASETS

info = chosen_model()
config = info.config
noun = DATASETS[config.dataset].noun
d = config.latent_dim
classes = DATASETS[config.dataset].classes
st.header("Explore the latent space")
st.caption(f"Each dot is a test {noun} at the mean of q(z|x). Click a dot to see it and its reconstruction; "
           "click empty space, or move the sliders, to decode any z.")

view = scatter_view(info, "explore")
limits = [(-4.0, 4.0)] * d if d > 2 else [view.ranges[0], view.ranges[1]][:d]
# The session's selection (a test image and z) is plain session state: the scatter, the sliders, the pad and the link
# all write it.
state = st.session_state
centre = [0.0 if d > 2 else float(np.mean(limits[i])) for i in range(d)]
if state.get("explore_for") != info.name or len(state.get("explore_point", ())) != d:  # a new model: start afresh
    state.update(explore_for=info.name, explore_index=None, explore_point=list(centre))


def set_z(z) -> None:
    state["explore_point"] = clip_to(z, limits)


link = links.read_link("explore", {"index": links.integer(0, len(view.means) - 1),
                                   "z": links.vector(d, -1e3, 1e3)})
if "index" in link:
    state["explore_index"] = link["index"]
if "z" in link:
    set_z(link["z"])


def on_scatter_click() -> None:
    click = clicked("explore_scatter")
    if click is None:
        return
    kind, index, x, y = click
    if kind == 0:
        state["explore_index"] = index
    z = view.means[index] if kind == 0 else view.to_latent(x, y)
    if z is None:
        st.toast("A t-SNE map cannot be inverted: use PCA, or the sliders, to decode any z.")
    else:
        set_z(z)


def on_slider(i: int) -> None:
    point = state["explore_point"]
    if i < len(point):  # a slider of the previous model (more dimensions) can report once more: ignore it
        point[i] = float(state[f"explore_z{i}"])


def on_pad_release() -> None:
    released = (state.get("explore_pad") or {}).get("z")
    if released is not None and len(released) == d:
        set_z(released)


z = np.array(state["explore_point"], dtype=np.float32)
links.publish({"index": state["explore_index"],
               "z": None if state["explore_point"] == centre else [round(float(v), 3) for v in z]})

left, right = st.columns(2)
with left:
    marker = tuple(view.to_plot(z)[0]) if view.invertible else None
    figure = plots.latent_scatter(view.coords, view.labels, classes, view.ranges, selected=state.get("explore_index"),
                                  marker=marker, axis_titles=view.axis_titles)
    charts.show(figure, f"{info.name} · means of {len(view.coords):,} test {noun}s", key="explore_scatter",
                alt=plots.describe_scatter(view.coords, view.labels, classes, view.axis_titles,
                                           f"the latent means of {len(view.coords):,} test {noun}s (click one)"),
                on_select=on_scatter_click, selection_mode="points",
                    config={"scrollZoom": True})

# The decoder runs in numpy: this page never imports torch (the scatter draws without waiting for it).
decoder = store.decoder(info)
with right:
    if d >= 2 and view.invertible:
        chart = st.container()  # the grid first, level with the scatter; its size slider below it
        n = st.slider("Manifold grid size", 5, 25, 15, key="explore_grid_n", bind="query-params",
                      persist_state="session")
        xs, ys = np.linspace(*view.ranges[0], n), np.linspace(*view.ranges[1], n)
        plane = np.stack(np.meshgrid(xs, ys), -1).reshape(-1, 2)  # row i, column j: (xs[j], ys[i])
        z_grid = plane if d == 2 else view.projection.to_latent(plane)
        grid = decoder.decode(z_grid).reshape(n, n, *config.image_shape)
        charts.show(plots.manifold(grid, xs, ys, view.ranges, axis_titles=view.axis_titles),
                    f"{info.name} · decode(z) on a {n}×{n} grid", container=chart,
                    alt=f"A {n}×{n} grid of {noun}s decoded from evenly spaced latent points, on the scatter's axes: "
                        f"{view.axis_titles[0]} from {xs[0]:.1f} to {xs[-1]:.1f} across, {view.axis_titles[1]} from "
                        f"{ys[0]:.1f} to {ys[-1]:.1f} up; neighbouring {noun}s change gradually.",
                           key="explore_manifold")
        if d > 2:
            st.caption("Decoded over the PCA plane through the mean of the test codes.")
    else:
        st.info("The manifold grid needs a 2-D latent space or a PCA plane; t-SNE cannot be inverted.")

c1, c2, c3 = st.columns([1, 1, 2.5])  # "Reconstruction" whole at 1024 px
index = state.get("explore_index")
with c1:
    st.markdown(f"**Selected {noun}**")
    if index is None:
        st.caption("Click a dot in the scatter.")
    else:
        test, _ = store.dataset(config.dataset, "test")
        data_notice(test)
        if index < len(test):
            images.show(images.enlarge(images.to_uint8(test.images[index].numpy() / 255.0), 6),
                        f"Test {noun} #{index}, a {classes[test.labels[index]]}",
                        caption=f"test #{index}: {classes[test.labels[index]]}")
        else:
            st.caption(f"test #{index} ({classes[view.labels[index]]}): the image is not in the shipped sample.")
with c2:
    st.markdown("**Reconstruction**")
    if index is not None:
        recon = decoder.decode(view.means[index][None])[0]
        images.show(images.enlarge(images.to_uint8(recon), 6),
                    f"Its reconstruction decode(μ): the decoder's mean image at test #{index}'s latent mean",
                    caption="decode(μ)")
with c3:
    st.markdown("**Drag to decode**")
    if d >= 2:
        dims = (0, 1)
        if d > 2:
            pick = st.columns(2)
            dims = (pick[0].selectbox("Pad x", range(d), 0, format_func=lambda i: f"z{i + 1}", key="explore_pad_x",
                                      bind="query-params", persist_state="session"),
                    pick[1].selectbox("Pad y", range(d), 1, format_func=lambda i: f"z{i + 1}", key="explore_pad_y",
                                      bind="query-params", persist_state="session"))
        pad_ranges = view.ranges if d == 2 else plots.extent(view.means[:, list(dims)])
        latent_pad(f"{info.name}:{info.path.stat().st_mtime_ns}", decoder, view.means, view.labels,
                              dims, pad_ranges, z, key="explore_pad", on_release=on_pad_release)
        st.caption("Decoded in your browser on every frame while you drag" +
                   (f"; z{dims[0] + 1}, z{dims[1] + 1} on the pad, sliders for the rest." if d > 2 else "."))

with st.expander("Server-side decoding (sliders)", expanded=d == 1):
    st.caption("The same decoder run on the server: each slider change is a round trip.")
    inner_left, inner_right = st.columns([1, 2])
    with inner_right:
        for i in range(d):
            # the sliders show the session's z, set before they are drawn, from the float64 list: float32 z can
            # round a slider's maximum up past it (StreamlitValueAboveMaxError on a 1-D model's End key)
            state[f"explore_z{i}"] = state["explore_point"][i]
            st.slider(f"z{i + 1}", float(limits[i][0]), float(limits[i][1]), step=0.01, key=f"explore_z{i}",
                      on_change=on_slider, args=(i,))
    with inner_left:
        shown_z = "z = (" + ", ".join(f"{v:.2f}" for v in z[:4]) + (", …)" if d > 4 else ")")
        images.show(images.enlarge(images.to_uint8(decoder.decode(z[None])[0]), 6),
                    f"The {noun} decoded from {shown_z}", caption=shown_z)

if "timeline_steps" in info.extras:  # a model saved from Train live keeps the timeline of its training
    SAVED_TIMELINE = live_views.Player.named("explore_timeline")

    def saved_timeline():
        line = store.timeline(info)
        if line is None:
            st.caption("This model's timeline cannot be read.")
            return
        st.caption(f"{len(line.steps)} snapshots of {info.name}'s training, from step 0 to {line.steps[-1]:,}: the "
                   f"latent means of {len(line.labels):,} test {noun}s and the decoder's map as they were then.")
        SAVED_TIMELINE.show(line, classes, noun)

    with st.expander(f"How {info.name} learned: its training timeline"):
        st.fragment(run_every=SAVED_TIMELINE.every(None))(saved_timeline)()
