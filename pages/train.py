"""Train live: a new VAE trained while you watch, with play / pause / step / stop and live charts."""
import streamlit as st

from classroom import Refused, models as saved
from ui import focus, identity, links, live_runs, live_views, metrics, plots, scoring, sidebar, store, submit, text
from vae.config import ConfigError, VAEConfig
from vae.data import DATASETS
from vae.live import LiveTrainingError

sidebar.chosen_model(required=False)
st.header("Train a VAE live")
state = st.session_state

# One range per setting, shared by the new-model form and the live controls.
LR_OPTIONS = [1e-4, 3e-4, 1e-3, 3e-3, 1e-2]
BETA_RANGE = (0.0, 10.0)
SIGMA_OPTIONS = list(store.SIGMA_CHOICES)
BATCH_OPTIONS = [32, 64, 128, 256, 512]
SIZE_OPTIONS = {"all 60,000": None, "10,000": 10_000, "2,000": 2_000}
FOCUS_CONTROLS = "train_focus_controls"  # set by Create model: the next run moves the keyboard focus to Play / Pause
PLAYER = live_views.TRAIN  # the paused run's timeline: its scrubber and replay
STEP_DETAIL = "live_step_detail"  # the last slow-motion step's before and after
TIMELINE = "live_timeline"  # (run token, step, probe snapshot, vae.timeline.Timeline) of the paused run, once a step
MAX_LINKED_STEPS = 20_000  # a link's run is recomputed up to this many steps
RECOMPUTE_CHUNKS = 40  # progress updates while a linked run is recomputed
linked = links.read_link("train", {"train_steps": links.integer(1, MAX_LINKED_STEPS),
                                   "train_at": links.integer(0, MAX_LINKED_STEPS)})


def hidden_widths(text: str) -> tuple[int, ...]:
    """'512,256' → (512, 256); anything else is refused with a message naming the field."""
    try:
        widths = tuple(int(w) for w in text.split(",") if w.strip())
    except ValueError:
        raise ValueError(f"Hidden widths: expected whole numbers separated by commas (e.g. 512,256), "
                         f"got {text!r}") from None
    if not widths:
        raise ValueError("Hidden widths: give at least one width, e.g. 256")
    return widths


def create(config: VAEConfig, limit):
    for done in ("live_save_result", "live_saved", STEP_DETAIL, TIMELINE, PLAYER.at, PLAYER.last):  # the last run's
        state.pop(done, None)
    if state.get(live_runs.RUN) is not None:
        live_runs.end(state[live_runs.RUN])
    live_runs.adopt(live_runs.new_run(config, limit))


def recompute_linked_run(run, steps: int, at: int | None) -> None:
    """A link's run (`train_steps`): its recipe and seed trained again to that step, with its progress on screen,
    then paused there, its timeline at `train_at`."""
    progress = st.progress(0.0, text=f"This link shows a run of {steps:,} steps: recomputing it from its recipe and "
                                     "seed…")
    chunk = max(1, -(-steps // RECOMPUTE_CHUNKS))
    at = min(at if at is not None else steps, steps)
    done = 0
    try:
        while done < steps:
            done = run.trainer.step(steps=min(chunk, steps - done, at - done if done < at else steps))
            if done == at:
                run.trainer.mark()  # the step the link shows has a snapshot of its own
            progress.progress(done / steps, text=f"Recomputing the linked run from its recipe and seed: step {done:,} "
                                                 f"of {steps:,}")
    except LiveTrainingError as exc:
        st.error(f"The linked run could not be recomputed: {exc}")
        st.stop()
    state[PLAYER.at] = at
    links.publish({"train_steps": None})  # done: a reload reattaches to this run (see live_latents)


PLAY, PAUSE = "Play", "Pause"
MODE_LABELS = {PLAY: ":material/play_arrow: Play", PAUSE: ":material/pause: Pause"}


def command(action, *args, **kwargs):
    """Send a command to the training process; a refusal becomes a message, not a traceback."""
    try:
        return action(*args, **kwargs)
    except (LiveTrainingError, ConfigError) as exc:
        st.toast(f"⚠️ {exc}")
        return None


def live_update(field: str, key: str):
    """A slider moved: the trainer takes the new value between two chunks, without a reset."""
    command(state["live_run"].trainer.update, **{field: state[key]})


def save_run(run) -> None:
    """The Save button's callback: the training process writes the model, which is kept at once as this browser's,
    its measurement on the test split queued (classroom.scoring); its figures follow below as they are measured."""
    name = state["live_save_name"]
    try:
        saved.free_name(store.database(), name, store.reserved_names())
        if identity.current() is None:
            raise Refused("This browser has no key yet, so the model could not be kept as yours: try again.")
        with st.spinner("Writing the model…"):
            path = live_runs.write(run)
        try:
            kept = keep_saved(path, name)
        finally:
            path.unlink(missing_ok=True)
    except (Refused, OSError, LiveTrainingError) as exc:
        state["live_save_result"] = ("error", f"Not saved: {text.plain(str(exc))}")
    else:
        run.saved_as = kept.name
        state["live_saved"] = kept.id
        state["live_save_result"] = ("success", f"Saved as {text.plain(kept.name)}, yours, in the sidebar's model "
                                                "list. Its figures on the test split follow when it is measured.")


def keep_saved(path, name: str):
    """The run's model (its file at `path`) kept as this browser's `name`, its measurement queued."""
    from vae import checkpoint

    data = path.read_bytes()
    try:
        dataset = checkpoint.from_bytes(data).config.dataset
    except checkpoint.CheckpointError as exc:
        raise Refused(str(exc)) from None
    return saved.save(store.database(), identity.current(), name, data, dataset, store.reserved_names(),
                      measure=True)


def save_form(run):
    with st.form("save_model"):
        st.subheader("Save this model")
        if "live_save_default" in state:  # a new run's name, set before the box is drawn (not after: an error)
            state["live_save_name"] = state.pop("live_save_default")
        st.text_input("Name", key="live_save_name", persist_state="session",
                      help="letters, digits, '.', '_' and '-'; it appears in the sidebar's model list")
        st.form_submit_button("Save", on_click=save_run, args=(run,))
    kind, message = state.get("live_save_result", (None, None))
    if kind:
        getattr(st, kind)(message)
    if kind != "success":
        state.pop("live_save_result", None)
    elif state.get("live_saved") is not None:  # kept on screen with its measurement and "Submit to the class"
        engine = store.database()
        model = next((m for m in saved.mine(engine, identity.current()) if m.id == state["live_saved"]), None)
        if model is not None:
            scoring.measurement(engine, model, run.trainer.config)
            submit.submit_form(engine, identity.current(), model, key="live_submit")


run = state.get("live_run")
if run is not None and linked.get("train_at") is not None:  # a reload: the timeline where its address had it
    state[PLAYER.at] = linked["train_at"]
if run is not None and not run.stopped and not run.trainer.alive:
    st.warning("This run's training process has ended (the page was idle for a long time). Start a new model.")
    run.stopped = True

if run is None or run.stopped:
    if run is not None and run.trainer.alive:
        st.info("This run is stopped. " + (f"It is saved as **{run.saved_as}**." if run.saved_as else
                "Save it now if you want to keep it: a new model replaces it."))
        save_form(run)
    # The new model's settings (the seed and the training size among them) live in the URL: a shared link opens the same recipe.
    dataset = sidebar.chosen_dataset()
    kept = dict(bind="query-params", persist_state="session")
    # Not a form: each setting reaches the server as it changes, so "Share this view" gives the recipe on screen.
    with st.container(border=True, key="new_model"):
        st.subheader(f"A new model of {sidebar.DATASET_LABELS[dataset]}")
        c = st.columns(4)
        latent_dim = c[0].number_input("Latent dimensions", 1, 64, 2, key="train_latent", **kept)
        hidden = c[1].text_input("Hidden widths", "256", key="train_hidden", help="comma-separated, e.g. 512,256", **kept)
        likelihood = c[2].selectbox("Decoder", ["gaussian", "bernoulli"], key="train_likelihood", **kept)
        sigma = c[3].select_slider("σ_dec (Gaussian)", SIGMA_OPTIONS, 0.3, key="train_sigma", **kept)
        c = st.columns(4)
        lr = c[0].select_slider("Learning rate", LR_OPTIONS, 1e-3, key="train_lr", **kept)
        beta = c[1].number_input("β", *BETA_RANGE, 1.0, step=0.1, key="train_beta", **kept)
        batch = c[2].selectbox("Batch size", BATCH_OPTIONS, BATCH_OPTIONS.index(128), key="train_batch", **kept)
        seed = c[3].number_input("Seed", 0, 2**31 - 1, 0, key="train_seed", **kept)
        size = st.radio(f"Training {DATASETS[dataset].noun}s", list(SIZE_OPTIONS), horizontal=True, key="train_size", **kept)
        recompute = linked.get("train_steps")
        if st.button("Create model", type="primary", key="train_create") or recompute:
            try:
                widths = hidden_widths(hidden)
                config = VAEConfig(dataset=dataset, latent_dim=int(latent_dim), hidden=widths, likelihood=likelihood, sigma_dec=sigma,
                                   binarize=likelihood == "bernoulli", lr=lr, beta=beta, batch_size=batch,
                                   seed=int(seed))
            except (ValueError, ConfigError) as exc:
                st.error(f"That model cannot be built: {exc}")
            else:
                with st.spinner("Starting the training process and loading the data…"):
                    try:
                        create(config, SIZE_OPTIONS[size])
                    except LiveTrainingError as exc:
                        st.error(f"Training could not start: {exc}")
                        st.stop()
                if recompute:
                    recompute_linked_run(state[live_runs.RUN], recompute, linked.get("train_at"))
                state[FOCUS_CONTROLS] = True  # the form and its button go: the focus goes to Play / Pause
                st.rerun()


def controls(run, playing: bool) -> None:
    """Play / Pause, Step and Stop, what the run is, and the sliders that change it while it trains."""
    trainer = run.trainer
    config = trainer.config
    noun = DATASETS[config.dataset].noun
    buttons = st.container(horizontal=True, vertical_alignment="center", gap="medium")  # wraps, never cuts

    # Callbacks: each runs once, before the page's next run, whatever fragment or rerun is in flight. The state is
    # set first: a change that waits for the pipe (behind a Step's half second of training) must not let the page
    # be drawn with the controls of before it.
    def set_playing(playing: bool):
        state["live_playing"] = playing
        if playing:
            state.pop(STEP_DETAIL, None)
            PLAYER.stop()
        try:
            if playing:
                trainer.play()
            else:
                trainer.pause()
        except LiveTrainingError as exc:
            state["live_playing"] = False
            st.toast(f"⚠️ {exc}")

    def stop():
        set_playing(False)
        run.stopped = True

    # Play / Pause is one two-way control holding a value, not two buttons: a button's click is a one-off trigger,
    # and Streamlit 1.67 drops a trigger when another rerun (a slider moved) arrives before the click's run began
    # (seen under load: Play clicked, then β moved, and the page stayed paused). A value travels with every rerun.
    state["live_mode"] = PLAY if playing else PAUSE
    buttons.segmented_control("Training", [PLAY, PAUSE], required=True, key="live_mode", format_func=MODE_LABELS.get,
                              on_change=lambda: set_playing(state["live_mode"] == PLAY), label_visibility="collapsed")
    def slow_step():
        PLAYER.stop()
        detail = command(trainer.step_once)
        if detail is not None:
            state[STEP_DETAIL] = detail

    buttons.button("Step", icon=":material/skip_next:", disabled=playing, key="live_step", width="content",
                   help="one Adam step on one minibatch, in slow motion: what it changed is shown below",
                   on_click=slow_step)
    buttons.button("Stop", icon=":material/stop:", key="live_stop", width="content",
                   help="end this run: save it, or start a new model", on_click=stop)
    if trainer.ready["train_source"] == "shipped sample":
        data = DATASETS[config.dataset]
        st.warning(f"{data.title}'s training set was not found on this machine, so this model trains on the "
                   f"{trainer.ready['train_examples']:,} test {noun}s shipped with the project. Set VAE_DATA_DIR to a "
                   f"folder holding {data.folder}/raw/ for the full training set.")
    buttons.caption(f"{config.latent_dim}-D {config.likelihood} VAE, hidden {list(config.hidden)}, batch "
                    f"{config.batch_size}, {trainer.ready['train_examples']:,} training {noun}s, seed {config.seed}")

    sliders = st.columns(3)
    sliders[0].select_slider("Learning rate", LR_OPTIONS, key="live_lr", on_change=live_update, args=("lr", "live_lr"),
                              persist_state="session")
    sliders[1].slider("β (KL weight)", *BETA_RANGE, step=0.05, key="live_beta", on_change=live_update,
                      args=("beta", "live_beta"), persist_state="session")
    sliders[2].select_slider("σ_dec", SIGMA_OPTIONS, key="live_sigma", on_change=live_update,
                             args=("sigma_dec", "live_sigma"), disabled=config.likelihood != "gaussian",
                             persist_state="session")


def live_numbers(trainer) -> None:
    """The run's numbers, its curves and its KL per dimension: a fragment redraws them while the run plays (its
    snapshot is also the heartbeat that keeps the training process alive)."""
    config = trainer.config
    snap = command(trainer.snapshot, probe=False)
    if snap is None:
        return
    if snap["message"]:
        st.error(snap["message"])
        state["live_playing"] = False
    history, last = snap["history"], (snap["history"][-1] if snap["history"] else None)
    metrics.row([("Step", f"{snap['step']:,}"), ("Epoch", f"{snap['epoch']:.2f}"),
                 ("Steps/s", f"{last['steps_per_s']:.0f}" if last else "–"),
                 ("ELBO (nats)", f"{last['elbo']:.1f}" if last else "–"),
                 ("KL (nats)", f"{last['kl']:.2f}" if last else "–"),
                 ("Active dims", f"{last['active_dims']}/{config.latent_dim}" if last else "–")])
    if not history:
        st.caption("Press Play (or Step) to start training.")
        return
    charts = st.columns([1, 1, 1])
    # The charts' text alternatives do not change from redraw to redraw (Streamlit writes alt into the spec, and a new
    # spec is a new chart where the same spec has its data swapped): their latest values are the figures above.
    for column, (caption, spec) in zip(charts, plots.curve_panels(history)):
        column.caption(caption)
        column.vega_lite_chart(spec=spec, width="stretch",
                               alt=f"Line chart: {caption} (nats), from step 0; the latest values are the figures "
                                   "above (ELBO, KL).")
    charts[2].caption("KL per latent dimension (nats): the active units")
    charts[2].vega_lite_chart(spec=plots.kl_bars(snap["kl_per_dim"]), width="stretch",
                              alt=f"Bar chart: the KL of each of the {config.latent_dim} latent dimensions in nats; "
                                  "the number of active ones is the figure above (Active dims).")


def paused_view(run, step: int):
    """(its probe snapshot, its timeline) of a run paused at `step`: asked of the training process once per step it
    is paused at (a replay redraws them several times a second), or None."""
    held = state.get(TIMELINE)
    if held is None or held[:2] != (run.token, step):
        snap, line = command(run.trainer.snapshot, probe=True), command(run.trainer.timeline)
        if snap is None or line is None or snap["step"] != step:
            return None
        held = state[TIMELINE] = (run.token, step, snap, line)
    return held[2:]


def live_latents(run) -> None:
    """The cloud of latent means and the decoder's map: live while the run plays; while it is paused, at any step of
    its timeline, scrubbed or replayed (on the settled run's axes, fixed over the replay)."""
    trainer = run.trainer
    config = trainer.config
    data = DATASETS[config.dataset]
    if state.get("live_playing", False):
        snap = command(trainer.snapshot, probe=True)
        if snap is None:
            return
        now, step = snap["picture"], snap["step"]
        links.publish({"train_at": None})  # a link of a playing run opens its recipe
        state.pop("train_steps", None)
        live_views.picture_views(now, snap["labels"], data.classes, data.noun, now.frame, f"at step {step:,}")
        st.caption("Pause to scrub through the run's timeline or replay it.")
        live_views.reconstructions(snap, data.noun)
        return
    step = (command(trainer.snapshot, probe=False) or {}).get("step")
    held = paused_view(run, step) if step is not None else None
    if held is None:
        return
    snap, line = held
    now = snap["picture"]
    at = PLAYER.show(line, data.classes, data.noun, now=now)
    # "Share this view" gives this run at this step (train_steps, from the session: links.current_values), the address
    # bar only its timeline's step: a reload reattaches to the run, and must not retrain it first (the page's first
    # run, before the tab's token is back, has no run: with train_steps in the address it recomputed one)
    state["train_steps"] = step
    links.publish({"train_steps": None, "train_at": at if at != step else None})
    if at == step:
        live_views.reconstructions(snap, data.noun)


def pad_view(run) -> None:
    got = command(run.trainer.decoder)
    if got is not None:
        config = run.trainer.config
        live_views.live_pad(run.token, got, config.image_shape, live_runs.REFRESH_PAD)


def live_view(run) -> None:
    """The controls, the live numbers and latents (two fragments, redrawn at their own pace) and the save form of a
    run that has not been stopped."""
    playing = state.get("live_playing", False)
    controls(run, playing)
    if state.pop(FOCUS_CONTROLS, False):
        focus.move_focus("live_mode")
    st.fragment(run_every=live_runs.REFRESH_PLAYING if playing else live_runs.REFRESH_PAUSED)(live_numbers)(run.trainer)
    if not playing and state.get(STEP_DETAIL):
        live_views.step_detail(state[STEP_DETAIL], DATASETS[run.trainer.config.dataset].noun)
    every = live_runs.REFRESH_LATENTS if playing else PLAYER.every(live_runs.REFRESH_PAUSED)
    st.fragment(run_every=every)(live_latents)(run)
    if st.toggle("Drag z through the decoder as it trains", key="live_pad_on", persist_state="session",
                 help="the latent pad, decoding in this browser: the decoder's weights are sent to it every "
                      f"{live_runs.REFRESH_PAD:.0f} s while the run plays"):
        st.fragment(run_every=live_runs.REFRESH_PAD if playing else live_runs.REFRESH_PAUSED)(pad_view)(run)
    st.divider()
    save_form(run)


if run is not None and not run.stopped:  # (no st.stop above: the app's link notices come after the page)
    live_view(run)
