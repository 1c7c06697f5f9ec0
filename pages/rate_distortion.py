"""Rate–distortion: the shipped sweep over σ_dec, its curve, where the posterior collapses, any model opened."""
import pandas as pd
import streamlit as st

from ui import charts, plots, sidebar, store
from vae.data import DATASETS
from vae.collapse import ACTIVE_THRESHOLD
from vae.sweep import collapse_value, load_results

sidebar.chosen_model(required=False)
st.header("Rate–distortion")
folders = store.sweep_dirs()
if not folders:
    st.info("No sweep is shipped in checkpoints/sweeps/. Make one with `python -m vae sweep --out-dir "
            "checkpoints/sweeps/NAME ...` (see the README).")
    st.stop()

state = st.session_state
names = [f.name for f in folders]
chosen = names[0]
if len(names) > 1:
    chosen = st.selectbox("Sweep", names, key="sweep_sweep", bind="query-params", persist_state="session")
folder = folders[names.index(chosen)]
try:
    results = load_results(folder)
except ValueError as exc:
    st.error(str(exc))
    st.stop()
points, parameter = results["points"], results["parameter"]
if not points:
    st.info("This sweep has no finished models yet.")
    st.stop()
config = results["config"]
symbol = "σ_dec" if parameter == "sigma_dec" else "β"
member_names = [p["name"] for p in points]
middle = len(member_names) // 2
if state.get("sweep_member") not in member_names:  # first visit (a link's value wins over it), or another sweep
    state["sweep_member"] = member_names[middle]


def on_curve_click() -> None:
    points_clicked = (state.get("sweep_curve") or {}).get("selection", {}).get("points", [])
    if points_clicked and points_clicked[0].get("point_index") is not None:
        state["sweep_member"] = member_names[int(points_clicked[0]["point_index"])]


def open_member() -> None:
    sidebar.choose(state["sweep_member"], config["dataset"])


collapse = collapse_value(results)

st.caption(f"{len(points)} models, {config['latent_dim']}-D latent, hidden {config['hidden']}, {config['epochs']} "
           f"epochs on {DATASETS[config['dataset']].title}, each trained with a different {symbol}. Rate = E KL(q(z|x) ‖ p(z)) in nats, an upper bound on the "
           f"information the code carries about the image (the mutual information I(x; z) plus KL(q(z) ‖ p(z)) "
           f"≥ 0); distortion = E‖x − x̂‖², the squared error of the reconstruction (test split).")
pick = st.columns([3, 2])
choose = pick[0].container(horizontal=True, vertical_alignment="bottom")
choose.selectbox("Model of the sweep (or click a point)", member_names, middle, key="sweep_member", bind="query-params",
                  persist_state="session")
if choose.button("Open in Explore", icon=":material/open_in_new:", type="primary", key="sweep_open",
                  on_click=open_member):  # the callback chose the model before the sidebar was drawn
    st.switch_page("pages/explore.py", query_params={})  # {}: plain switch_page would clear the URL, which
    # Streamlit refuses while widgets are bound to it; the bound sidebar values come back on the new page
pick[1].caption(f"Reproduce the sweep with:\n\n`{results['command']}`")

left, right = st.columns([3, 2])
with left:
    charts.show(plots.rate_distortion(points, parameter, state["sweep_member"], collapse),
                f"{folder.name} · rate against distortion (test)", key="sweep_curve",
                alt=f"Rate KL(q‖p) in nats against distortion E‖x − x̂‖² on the test set, one point per model of the "
                    f"sweep ({len(points)}), joined in order of {symbol}: "
                    + "; ".join(f"{symbol} = {p['value']:g}: rate {p['rate']:.1f}, distortion {p['distortion']:.1f}"
                                for p in points)
                    + f". The chosen model {state['sweep_member']} is ringed"
                    + (f"; posterior collapse from {symbol} = {collapse:g} is marked." if collapse is not None
                       else "."),
                    on_select=on_curve_click, selection_mode="points")
with right:
    charts.show(plots.active_units(points, parameter, config["latent_dim"]),
                f"{folder.name} · active units against {symbol}", key="sweep_units",
                alt=f"Active latent units (of {config['latent_dim']}) against {symbol} (log axis): "
                    + ", ".join(f"{p['active_dims']} at {p['value']:g}" for p in points) + ".")
    if collapse is not None:
        st.warning(f"From {symbol} = {collapse:g} no latent unit carries information (KL per unit ≤ {ACTIVE_THRESHOLD:g} nats): "
                   f"the posterior has collapsed onto the prior and every {DATASETS[config['dataset']].title} "
                   f"{DATASETS[config['dataset']].noun} decodes to the same blur.")
    else:
        fewest = min(points, key=lambda p: p["active_dims"])
        st.info(f"No full collapse in this range; the fewest active units is {fewest['active_dims']} "
                f"of {config['latent_dim']} at {symbol} = {fewest['value']:g}.")

table = pd.DataFrame([{symbol: p["value"], "rate (nats)": p["rate"], "distortion": p["distortion"],
                       "test ELBO": p["elbo"], "IWAE log p(x)": p.get("log_px_iwae"),
                       "active units": p["active_dims"], "model": p["name"]} for p in points])
st.dataframe(table, hide_index=True, width="stretch")

