"""The ELBO page's second mode: a model trained at each σ_dec (a shipped sweep), so both terms move."""
from __future__ import annotations

from pathlib import Path

import streamlit as st

from ui import images, plots, store
from vae.data import DATASETS
from vae.sweep import collapse_value, load_results, reconstruction_term


def sigma_sweep() -> tuple[Path, dict] | None:
    """The first shipped sweep over σ_dec, as (its folder, its sweep.json), or None."""
    for folder in store.sweep_dirs():
        try:
            results = load_results(folder)
        except ValueError:
            continue
        if results["parameter"] == "sigma_dec":
            return folder, results
    return None


def trained_at_each_sigma(chosen_dataset: str) -> None:
    """Slider over the sweep's σ_dec values: the chosen test image's terms under the model trained at that σ, the
    test set's stored terms of every member, and the image's reconstruction by each. `chosen_dataset`: the
    sidebar model's, named when the sweep was trained on another."""
    found = sigma_sweep()
    if found is None:
        st.info("No sweep over σ_dec is shipped in checkpoints/sweeps/: this mode needs one (see the README).")
        return
    folder, results = found
    points, config = results["points"], results["config"]
    dataset = DATASETS[config["dataset"]]
    values = [p["value"] for p in points]
    collapse = collapse_value(results)
    st.info(f"**Mode: a model trained at each σ_dec.** Each σ_dec below is its own model ({len(points)} models of the "
            f"shipped sweep `{folder.name}`: {config['latent_dim']}-D latent, {config['epochs']} epochs on "
            f"{dataset.folder}), so the reconstruction term *and* the KL move: a large σ_dec lets the model stop "
            "using its code." + ("" if chosen_dataset == config["dataset"] else
                                 f" (The sweep is of {dataset.folder} models, not of the {DATASETS[chosen_dataset].folder} "
                                 "model chosen in the sidebar.)"))
    test, _ = store.dataset(config["dataset"], "test")
    top = st.columns([2, 1])
    labels = [f"{v:g}" for v in values]  # strings: a link's "2" matches the option, not 2.0 against 2
    chosen = top[0].select_slider("σ_dec of the model (trained at it)", options=labels, value=labels[len(labels) // 2],
                                  key="elbo_sweep_sigma", bind="query-params", persist_state="session")
    sigma = values[labels.index(chosen)]
    index = int(top[1].number_input(f"Test {dataset.noun}", 0, len(test) - 1, 0, key="elbo_index",
                                    bind="query-params", persist_state="session"))
    terms = store.sweep_member_terms(folder, index)
    i = values.index(sigma)
    point, mine = points[i], terms[i]
    mine_col, test_col = st.columns(2)
    mine_col.caption(f"This {dataset.noun}, under the model trained at σ_dec = {sigma:g}")
    m = mine_col.columns(3)
    m[0].metric("Reconstruction", f"{mine['reconstruction']:.2f}", help="E_q[log p(x|z)], nats")
    m[1].metric("KL", f"{mine['kl']:.3f}", help="KL(q(z|x) ‖ p(z)), nats")
    m[2].metric("ELBO", f"{mine['elbo']:.2f}")
    test_col.caption("The test set, as stored with the sweep")
    m = test_col.columns(3)
    m[0].metric("Test reconstruction", f"{reconstruction_term(point):.2f}", help="ELBO + KL of the test set, nats")
    m[1].metric("Test KL", f"{point['rate']:.3f}", help="the rate: mean KL(q(z|x) ‖ p(z)) of the test set, nats")
    m[2].metric("Active units", f"{point['active_dims']}/{config['latent_dim']}")
    left, right = st.columns([3, 2])
    with left:
        st.plotly_chart(plots.sweep_terms(values, [reconstruction_term(p) for p in points], [p["rate"] for p in points],
                                          [t["reconstruction"] for t in terms], [t["kl"] for t in terms], sigma,
                                          collapse), key="elbo_sweep_chart")
    with right:
        x = test.images[index].numpy() / 255.0
        st.image(images.enlarge(images.strip([x, mine["image"].reshape(x.shape)]), 4),
                 caption=f"test #{index}: {dataset.classes[test.labels[index]]} · its reconstruction decode(μ) by the "
                         f"model trained at σ_dec = {sigma:g}")
    st.image(images.enlarge(images.strip([t["image"].reshape(test.images.shape[1:]) for t in terms]), 3),
             caption="Its reconstruction by each model, σ_dec = " + ", ".join(f"{v:g}" for v in values)
                     + (f"; from σ_dec = {collapse:g} the posterior has collapsed: every image decodes to the same blur."
                        if collapse is not None else "."))
    st.caption("Nats per image, test figures as stored in each checkpoint's sweep.json (rate = KL; reconstruction = "
               "ELBO + KL); this image's with 64 samples of z.")
