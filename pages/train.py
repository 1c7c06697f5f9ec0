"""Train live: a new VAE trained in the browser, with play / pause / step / stop and live charts."""
import pandas as pd
import streamlit as st

from ui import images, store, training
from ui.sidebar import choose_model
from vae.config import ConfigError, VAEConfig

choose_model()
st.header("Train a VAE live")
state = st.session_state
run = state.get("live_run")

LR_OPTIONS = [1e-4, 3e-4, 1e-3, 3e-3, 1e-2]
SIZE_OPTIONS = {"all 60,000": None, "10,000": 10_000, "2,000": 2_000}


def create(config: VAEConfig, limit):
    state["live_run"] = training.new_run(config, limit)
    state.update(live_lr=config.lr, live_beta=config.beta, live_sigma=config.sigma_dec,
                 live_save_name=f"live-{config.latent_dim}d-{config.likelihood}-seed{config.seed}")


def live_update(field: str, key: str):
    """Apply a slider to the running trainer between two slices: no reset."""
    try:
        state["live_run"].trainer.update(**{field: state[key]})
    except ConfigError as exc:
        st.toast(str(exc))


if run is None or run.stopped:
    if run is not None:
        st.info(f"The last run stopped at step {run.step}" +
                (f" and is saved as **{run.saved_as}**." if run.saved_as else " and is not saved: save it below "
                 "before you start a new one, or it is replaced."))
    with st.form("new_model"):
        st.subheader("A new model")
        c = st.columns(4)
        latent_dim = c[0].number_input("Latent dimensions", 1, 64, 2)
        hidden = c[1].text_input("Hidden widths", "256", help="comma-separated, e.g. 512,256")
        likelihood = c[2].selectbox("Decoder", ["gaussian", "bernoulli"])
        sigma = c[3].select_slider("σ_dec (Gaussian)", list(store.SIGMA_CHOICES), value=0.3)
        c = st.columns(4)
        lr = c[0].select_slider("Learning rate", LR_OPTIONS, value=1e-3)
        beta = c[1].number_input("β", 0.0, 10.0, 1.0, step=0.1)
        batch = c[2].selectbox("Batch size", [32, 64, 128, 256, 512], index=2)
        seed = c[3].number_input("Seed", 0, 2**31 - 1, 0)
        size = st.radio("Training digits", list(SIZE_OPTIONS), horizontal=True)
        if st.form_submit_button("Create model", type="primary"):
            try:
                widths = tuple(int(w) for w in hidden.split(",") if w.strip())
                config = VAEConfig(latent_dim=int(latent_dim), hidden=widths, likelihood=likelihood, sigma_dec=sigma,
                                   binarize=likelihood == "bernoulli", lr=lr, beta=beta, batch_size=batch,
                                   seed=int(seed))
            except (ValueError, ConfigError) as exc:
                st.error(f"That model cannot be built: {exc}")
            else:
                with st.spinner("Building the model…"):
                    create(config, SIZE_OPTIONS[size])
                st.rerun()
    if run is None:
        st.stop()

run = state["live_run"]
config = run.trainer.config
buttons = st.columns([1, 1, 1, 1, 4])
if not run.stopped:
    if buttons[0].button("▶ Play", disabled=run.playing, type="primary", key="live_play"):
        run.playing, run.message = True, None
        st.rerun()
    if buttons[1].button("⏸ Pause", disabled=not run.playing, key="live_pause"):
        run.playing = False
        st.rerun()
    if buttons[2].button("⏭ Step", disabled=run.playing, key="live_step", help="train one slice, then stop"):
        training.advance(run)
    if buttons[3].button("⏹ Stop", key="live_stop", help="end this run: save it, or start a new model"):
        run.playing, run.stopped = False, True
        st.rerun()
buttons[4].caption(f"{config.latent_dim}-D {config.likelihood} VAE, hidden {list(config.hidden)}, batch "
                   f"{config.batch_size}, {run.trainer.data.shape[0]:,} training digits, seed {config.seed}")

sliders = st.columns(3)
sliders[0].select_slider("Learning rate", LR_OPTIONS, key="live_lr", on_change=live_update, args=("lr", "live_lr"),
                         disabled=run.stopped)
sliders[1].slider("β (KL weight)", 0.0, 4.0, step=0.05, key="live_beta", on_change=live_update,
                  args=("beta", "live_beta"), disabled=run.stopped)
sliders[2].select_slider("σ_dec", list(store.SIGMA_CHOICES), key="live_sigma", on_change=live_update,
                         args=("sigma_dec", "live_sigma"), disabled=run.stopped or config.likelihood != "gaussian")


def live_panel():
    run = state["live_run"]
    if run.playing:
        training.advance(run)
    if run.message:
        st.error(run.message)
    last = run.history[-1] if run.history else None
    m = st.columns(6)
    m[0].metric("Step", f"{run.step:,}")
    m[1].metric("Epoch", f"{run.trainer.epoch:.2f}")
    m[2].metric("Steps/s", f"{last['steps_per_s']:.0f}" if last else "–")
    m[3].metric("ELBO (nats)", f"{last['elbo']:.1f}" if last else "–")
    m[4].metric("KL (nats)", f"{last['kl']:.2f}" if last else "–")
    m[5].metric("Active dims", f"{last['active_dims']}/{config.latent_dim}" if last else "–")
    if not run.history:
        st.caption("Press ▶ Play (or ⏭ Step) to start training.")
        return
    frame = pd.DataFrame(run.history).set_index("step")
    charts = st.columns(3)
    with charts[0]:
        st.caption("ELBO and reconstruction (nats per image)")
        st.line_chart(frame[["elbo", "reconstruction"]], height=220)
    with charts[1]:
        st.caption("KL to the prior (nats)")
        st.line_chart(frame[["kl"]], height=220)
    with charts[2]:
        st.caption("KL per latent dimension (nats): the active units")
        st.bar_chart(pd.DataFrame({"KL": run.kl_per_dim}, index=[f"z{i + 1}" for i in range(len(run.kl_per_dim))]),
                     height=220)
    coords, names, originals, recon = training.probe_view(run)
    views = st.columns([2, 3])
    with views[0]:
        st.caption(f"Latent means of {len(coords):,} test digits ({names[0]}, {names[1]}: the most active dimensions)")
        st.scatter_chart(pd.DataFrame({names[0]: coords[:, 0], "y": coords[:, 1],
                                       "digit": run.probe_labels.astype(str)}),
                         x=names[0], y="y", color="digit", height=300)
    with views[1]:
        st.caption("Test digits (top) and their reconstructions (bottom)")
        st.image(images.enlarge(images.strip(originals), 3))
        st.image(images.enlarge(images.strip(recon), 3))


st.fragment(run_every=0.1 if run.playing else None)(live_panel)()

st.divider()
with st.form("save_model"):
    st.subheader("Save this model")
    name = st.text_input("Name", key="live_save_name",
                         help="letters, digits, '.', '_' and '-'; it appears in the sidebar's model list")
    if st.form_submit_button("Save", disabled=run.step == 0):
        try:
            with st.spinner("Encoding the test set and saving…"):
                path = training.save(run, name)
        except (ValueError, OSError) as exc:
            st.error(f"Not saved: {exc}")
        else:
            st.success(f"Saved as **{path.stem}**. Choose it in the sidebar to explore it.")
