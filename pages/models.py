"""Models: the shipped checkpoints and your own — list, download, upload (validated), delete."""
import pandas as pd
import streamlit as st

from ui import sidebar, store
from vae import catalog
from vae.units import LABELS as BITS_LABELS, bits_per_dim

sidebar.chosen_model(required=False)
st.header("Models")


def keep_upload(data: bytes) -> None:
    """The Keep button's callback: it runs before the next run, so the sidebar lists the model at once."""
    from vae import checkpoint

    state = st.session_state
    try:
        path = store.user_model_path(state["upload_name"])
        if path.exists() and not state["upload_overwrite"]:
            raise ValueError(f"you already have a model named {path.stem}; tick 'Replace' or rename it")
        checkpoint.write_atomic(path, data)
    except (ValueError, OSError) as exc:
        state["upload_result"] = ("error", f"Not saved: {exc}")
    else:
        state["upload_result"] = ("success", f"Saved as **{path.stem}**: it is in the sidebar's model list.")


def delete(info) -> None:
    info.path.unlink(missing_ok=True)
    st.toast(f"Deleted {info.name}")


infos = store.available_models()

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
    return {"name": info.name, "owner": store.origin(info), "dataset": c.dataset, "latent dim": c.latent_dim,
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
st.caption(f"Your models live in `{store.user_dir()}` (set VAE_USER_MODELS_DIR to move them). "
           "Choose any model in the sidebar to open it on the other pages.")

for info in infos:
    shipped = store.is_shipped(info)
    with st.expander(f"{info.name}  ({store.origin(info)})"):
        if info.meta.get("command"):
            st.code(info.meta["command"], language="bash", wrap_lines=True)
        cols = st.columns([1, 1, 3])
        cols[0].download_button("Download", info.path.read_bytes, file_name=info.path.name,  # read on click
                                mime="application/octet-stream", key=f"download_{info.name}")
        if not shipped:
            confirm = cols[2].checkbox("Yes, delete it", key=f"confirm_{info.name}")
            cols[1].button("Delete", key=f"delete_{info.name}", disabled=not confirm, on_click=delete, args=(info,))

st.subheader("Upload a checkpoint")
st.caption("A `.safetensors` file saved by this app or `python -m vae train` (at most "
           f"{catalog.MAX_CHECKPOINT_BYTES // 2**20} MiB). It is validated "
           "before it is kept; nothing in it is ever executed.")
upload = st.file_uploader("Checkpoint", type=["safetensors"], key="upload_file")
if upload is not None:
    from vae import checkpoint

    data = upload.getvalue()
    try:
        ckpt = checkpoint.from_bytes(data)
    except checkpoint.CheckpointError as exc:
        st.error(f"**{upload.name}** was not accepted: {exc}")
    else:
        c = ckpt.config
        st.success(f"Valid: a {c.latent_dim}-D {c.likelihood} VAE, hidden {list(c.hidden)}.")
        default = upload.name.removesuffix(catalog.SUFFIX)
        with st.form("upload_form"):
            st.text_input("Save as", value=default if catalog.NAME_PATTERN.match(default) else "uploaded-model",
                          key="upload_name")
            st.checkbox("Replace a model of mine with the same name", key="upload_overwrite")
            st.form_submit_button("Keep it", on_click=keep_upload, args=(data,))
kind, message = st.session_state.pop("upload_result", (None, None))
if kind:
    getattr(st, kind)(message)
