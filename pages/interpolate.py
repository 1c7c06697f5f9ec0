"""Interpolate: two images, a linear and a spherical path between their codes, decoded step by step."""
import numpy as np
import streamlit as st

from ui import charts, images, plots, store
from ui.latent_view import clicked, scatter_view
from ui.sidebar import chosen_model, data_notice
from vae.data import DATASETS

info = chosen_model()
config = info.config
classes = DATASETS[config.dataset].classes
noun = DATASETS[config.dataset].noun
st.header(f"Interpolate between two {noun}s")
st.caption(f"Pick {noun}s A and B by clicking dots (each click fills the slot chosen below) or by index. "
           "lerp walks the straight line between their codes; slerp walks the arc, keeping a norm typical "
           "of the prior.")

view = scatter_view(info, "interp")
n_points = len(view.means)
state = st.session_state


def on_scatter_click() -> None:
    """A clicked dot fills the slot chosen below, and the other slot is next."""
    click = clicked("interp_scatter")
    if click is not None and click[0] == 0:
        slot = state.get("interp_slot", "A")
        state["interp_a" if slot == "A" else "interp_b"] = click[1]
        state["interp_slot"] = "B" if slot == "A" else "A"


controls = st.columns([1, 1, 1, 1])
last = n_points - 1
a = controls[0].number_input(f"{noun.capitalize()} A (test index)", 0, last, 0, key="interp_a", bind="query-params",
                             persist_state="session")
b = controls[1].number_input(f"{noun.capitalize()} B (test index)", 0, last, min(1, last), key="interp_b", bind="query-params",
                             persist_state="session")
steps = controls[2].slider("Steps", 3, 20, 10, key="interp_steps", bind="query-params", persist_state="session")
controls[3].radio("A click sets", ["A", "B"], horizontal=True, key="interp_slot", persist_state="session")

from vae.latent import decode, lerp, slerp  # noqa: E402  (torch: after the controls are on screen)
import torch  # noqa: E402

z0, z1 = (torch.from_numpy(view.means[i].astype(np.float32)) for i in (a, b))
paths = {"lerp": lerp(z0, z1, steps), "slerp": slerp(z0, z1, steps)}
drawable = view.invertible and config.latent_dim > 1
left, right = st.columns([1, 1])
with left:
    figure = plots.latent_scatter(view.coords, view.labels, classes, view.ranges, selected=a,
                                  paths={k: view.to_plot(p.numpy()) for k, p in paths.items()} if drawable else None,
                                  axis_titles=view.axis_titles, height=480)
    ends = f"{classes[view.labels[a]]} (#{a}) to {classes[view.labels[b]]} (#{b})"
    charts.show(figure, f"{info.name} · #{a} → #{b}, {steps} steps", key="interp_scatter", on_select=on_scatter_click,
                selection_mode="points",
                alt=plots.describe_scatter(view.coords, view.labels, classes, view.axis_titles,
                                           f"the latent means of {len(view.coords):,} test {noun}s, with the lerp "
                                           f"(solid) and slerp (dotted) paths of {steps} steps from {ends}"
                                           if drawable else f"the latent means of {len(view.coords):,} test {noun}s"))
    if not drawable:
        st.caption("Paths are drawn on 2-D and PCA views; a t-SNE map has no place for new points.")
    elif config.latent_dim == 2:
        st.caption("In 2-D, slerp's arc swings wide: it keeps the codes' norm, and two codes on opposite sides of "
                   "the origin are joined by half a circle. Slerp pays off in many dimensions, where the prior's "
                   "mass lies near the sphere of radius √d and the straight line cuts through its empty middle.")
model = store.load_model(info).model
with right:
    for name, path in paths.items():
        st.subheader(name)
        images.show(images.enlarge(images.strip(decode(model, path)), 2),
                    f"{steps} {noun}s in a row, decoded along the {name} path from the latent mean of {ends}",
                    width="stretch",
                    caption=f"{classes[view.labels[a]]} (#{a}) → {classes[view.labels[b]]} (#{b}), {steps} steps")
    test, _ = store.dataset(config.dataset, "test")
    data_notice(test)
    originals = [test.images[i].numpy() / 255.0 for i in (a, b) if i < len(test)]
    if len(originals) == 2:
        images.show(images.enlarge(images.strip(originals), 3),
                    f"The two test {noun}s: A, #{a}, a {classes[test.labels[a]]}; B, #{b}, a {classes[test.labels[b]]}",
                    caption="the originals A and B")
