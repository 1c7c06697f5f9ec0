"""Models: the shipped checkpoints, yours and those shared in your classes — list, download, upload (validated),
delete your own, submit your own to a class."""
import pandas as pd
import streamlit as st

from classroom import Refused, models as saved
from classroom.scoring import unmeasured
from ui import identity, scoring, sidebar, store, submit, text
from vae import catalog
from vae.units import LABELS as BITS_LABELS, bits_per_dim

sidebar.chosen_model(required=False)
st.header("Models")
me = identity.current()
state = st.session_state


def keep_upload(data: bytes, dataset: str, name_key: str) -> None:
    """The Keep button's callback: it runs before the next run, so the sidebar lists the model at once."""
    try:
        kept = saved.save(store.database(), me, state[name_key], data, dataset, store.reserved_names())
    except Refused as exc:
        state["upload_result"] = ("error", f"Not saved: {text.plain(str(exc))}")
    else:
        state["upload_result"] = ("success", f"Saved as {text.plain(kept.name)}: it is yours, in the sidebar's model list.")


def delete(model: saved.SavedModel) -> None:
    try:
        name = saved.delete_mine(store.database(), me, model.id)
    except Refused as exc:
        st.toast(text.plain(str(exc)))
    else:
        st.toast(f"Deleted {text.plain(name)}")


infos = store.available_models(me)

# Published test NLLs on dynamically binarised MNIST (nats, IWAE with K = 5,000), a one-stochastic-layer VAE.
REFERENCES = {"Burda et al. 2016, VAE (1 stochastic layer, k = 1)": 86.76, "Pythae benchmark, VAE": 89.78}
honest = [i for i in infos if i.config.binarize and i.metrics.get("test", {}).get("iw_samples", 0) >= 5000]
if honest:
    st.subheader("Honest likelihood")
    rows = [{"model": i.name, "test NLL (nats)": -i.metrics["test"]["log_px_iwae"],
             "bits/dim (binary pixels)": bits_per_dim(i.metrics["test"]["log_px_iwae"], i.config)[1],
             "K": i.metrics["test"]["iw_samples"], "ELBO": i.metrics["test"]["elbo"],
             "active units": i.metrics["test"].get("active_dims")} for i in honest]
    best = min(rows, key=lambda r: r["test NLL (nats)"])
    st.markdown(
        f"**{best['model']}**: test −log p(x) = **{best['test NLL (nats)']:.2f} nats** on dynamically binarised MNIST "
        f"(10,000 test digits binarised once with a fixed seed; IWAE with K = {best['K']:,}). Published references: "
        + "; ".join(f"{name} **{value:.2f}**" for name, value in REFERENCES.items()) + ". Lower is better.")
    nll_table = rows + [{"model": name, "test NLL (nats)": value, "K": 5000} for name, value in REFERENCES.items()]
    st.dataframe(pd.DataFrame(nll_table), hide_index=True)
    evaluate = next(i for i in honest if i.name == best["model"]).meta
    st.caption("Reproduce: `" + evaluate.get("command", "") + "` then `"
               + evaluate.get("evaluate_command", "python -m vae evaluate … --iw-samples 5000") + "`")


def row(info):
    c, test = info.config, info.metrics.get("test", {})
    return {"name": info.name, "owner": store.origin(info, me), "dataset": c.dataset, "latent dim": c.latent_dim,
            "decoder": c.likelihood, "σ_dec": c.sigma_dec if c.likelihood == "gaussian" else None,
            "hidden": ",".join(map(str, c.hidden)), "test ELBO": test.get("elbo"),
            "IWAE log p(x)": test.get("log_px_iwae"), **bits_columns(info.config, test),
            "size (KB)": round(info.path.stat().st_size / 1024)}


def bits_columns(config, test) -> dict:
    """The test bits/dim in the column of its kind: 8-bit pixels (Gaussian) or binary pixels (binarised Bernoulli)."""
    figure = bits_per_dim(test["log_px_iwae"], config) if "log_px_iwae" in test else None
    return {label: figure[1] if figure and figure[0] == key else None for key, label in BITS_LABELS.items()}


st.dataframe(pd.DataFrame([row(i) for i in infos]), hide_index=True, width="stretch")
st.caption("bits/dim: −log p(x) in bits per pixel, lower is better; for 8-bit pixels (Gaussian decoders: a "
           "density on ℝ^D, each grey level k/255 read as a bin 1/256 wide, an approximation) "
           "(−log p(x) + D·ln 256)/(D·ln 2), for binary pixels −log p(x)/(D·ln 2).")
st.caption("*yours*: saved or uploaded from this browser, seen by you alone until you submit one to a class; "
           "*shared*: a classmate's, submitted to a class you are in. Choose any model in the sidebar to open it "
           "on the other pages.")
if me is None:
    st.info("Getting this browser's key: your own models appear in a moment.")

engine = store.database()
measuring = unmeasured(engine, me)  # queued or being measured
# A place held whether or not anything is being measured: when a measurement ends and its caption goes, the expanders
# below keep their places in the page (a shifted expander is drawn anew, closed, hiding what a click just showed in it).
measuring_slot = st.container()
if measuring:
    measuring_slot.caption("Being measured on the test split: " + ", ".join(text.plain(name) for name in measuring)
                           + " (their figures follow; each one's progress is under it below).")
for info in infos:
    owner = store.origin(info, me)
    with st.expander(f"{text.plain(info.name)}  ({owner})"):  # a label reads markdown
        if info.meta.get("command"):
            st.code(info.meta["command"], language="bash", wrap_lines=True)
        cols = st.container(horizontal=True, vertical_alignment="center")
        cols.download_button("Download", info.path.read_bytes, file_name=info.path.name,  # read on click
                             mime="application/octet-stream", key=f"download_{info.name}")
        if owner == "yours":
            model = store.saved_model(info)
            confirm = cols.checkbox("Yes, delete it", key=f"confirm_{info.name}",
                                    help="It is also withdrawn from any class board it is on.")
            cols.button("Delete", key=f"delete_{info.name}", disabled=not confirm, on_click=delete, args=(model,))
            scoring.measurement(engine, model, info.config)
            submit.submit_form(engine, me, model, key=f"submit_{info.name}")

st.subheader("Upload a checkpoint")
st.caption("A `.safetensors` file saved by this app or `python -m vae train` (at most "
           f"{catalog.MAX_CHECKPOINT_BYTES // 2**20} MiB). It is validated "
           "before it is kept; nothing in it is ever executed. It is kept as yours.")
upload = st.file_uploader("Checkpoint", type=["safetensors"], key="upload_file")
if upload is not None:
    from vae import checkpoint

    data = upload.getvalue()
    try:
        ckpt = checkpoint.from_bytes(data)
    except checkpoint.CheckpointError as exc:
        st.error(f"This file was not accepted: {exc}")
    else:
        c = ckpt.config
        st.success(f"Valid: a {c.latent_dim}-D {c.likelihood} VAE, hidden {list(c.hidden)}.")
        default = upload.name.removesuffix(catalog.SUFFIX)
        name_key = f"upload_name_{upload.file_id}"  # each file its own name field: a second upload offers its own name
        with st.form("upload_form"):
            st.text_input("Save as", value=default if catalog.NAME_PATTERN.match(default) else saved.default_name(c, engine),
                          key=name_key, help="letters, digits, '.', '_' and '-'; a name in use is refused")
            st.form_submit_button("Keep it", on_click=keep_upload, args=(data, c.dataset, name_key), disabled=me is None)
kind, message = state.pop("upload_result", (None, None))
if kind:
    getattr(st, kind)(message)
