"""Interpolate: two digits, a linear and a spherical path between their codes, decoded step by step."""
import numpy as np
import streamlit as st

from ui import images, plots, store, url_state
from ui.latent_view import new_click, scatter_view
from ui.sidebar import choose_model, data_notice
from vae.data import DATASETS

info = choose_model()
if info is None:
    st.stop()
config = info.config
classes = DATASETS[config.dataset].classes
st.header("Interpolate between two digits")
st.caption("Pick digits A and B by clicking dots (each click fills the slot chosen below) or by index. "
           "lerp walks the straight line between their codes; slerp walks the arc, keeping a norm typical "
           "of the prior.")

view = scatter_view(info, "interp")
n_points = len(view.means)
state = st.session_state
url_state.restore("interp", {"a": url_state.integer(0, n_points - 1), "b": url_state.integer(0, n_points - 1),
                             "steps": url_state.integer(3, 20)})
state.setdefault("interp_a", 0)
state.setdefault("interp_b", min(1, n_points - 1))
state.setdefault("interp_slot", "A")
state.setdefault("interp_steps", 10)
click = new_click("interp_scatter")
if click is not None and click[0] == 0:
    state["interp_a" if state["interp_slot"] == "A" else "interp_b"] = click[1]
    state["interp_slot"] = "B" if state["interp_slot"] == "A" else "A"

controls = st.columns([1, 1, 1, 1])
controls[0].number_input("Digit A (test index)", 0, n_points - 1, key="interp_a")
controls[1].number_input("Digit B (test index)", 0, n_points - 1, key="interp_b")
controls[2].slider("Steps", 3, 20, key="interp_steps")
controls[3].radio("A click sets", ["A", "B"], horizontal=True, key="interp_slot")
a, b, steps = state["interp_a"], state["interp_b"], state["interp_steps"]
url_state.publish("interp", {"a": int(a), "b": int(b), "steps": int(steps)})

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
    st.plotly_chart(figure, key="interp_scatter", on_select="rerun", selection_mode="points")
    if not drawable:
        st.caption("Paths are drawn on 2-D and PCA views; a t-SNE map has no place for new points.")
model = store.load_model(info).model
with right:
    for name, path in paths.items():
        st.subheader(name)
        st.image(images.enlarge(images.strip(decode(model, path)), 2), width="stretch",
                 caption=f"{classes[view.labels[a]]} (#{a}) → {classes[view.labels[b]]} (#{b}), {steps} steps")
    test, _ = store.dataset(config.dataset, "test")
    data_notice(test)
    originals = [test.images[i].numpy() / 255.0 for i in (a, b) if i < len(test)]
    if len(originals) == 2:
        st.image(images.enlarge(images.strip(originals), 3), caption="the originals A and B")
