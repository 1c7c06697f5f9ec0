"""The ELBO page's second mode: a model trained at each σ_dec (a shipped sweep), so both terms move."""
from __future__ import annotations

import math
from pathlib import Path

import streamlit as st

from ui import charts, images, metrics, plots, store
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


def nearest_member(values: list[float], sigma: float) -> float:
    """The swept σ_dec closest to `sigma` on a log scale (the member the mode opens at for a model of that σ)."""
    return min(values, key=lambda v: abs(math.log(v / sigma)))


def trained_at_each_sigma(chosen) -> None:
    """Slider over the sweep's σ_dec values: the chosen test image's terms under the model trained at that σ, the
    test set's stored terms of every member, and the image's reconstruction by each. `chosen`: the sidebar's model
    (a CheckpointInfo): the mode opens at the member nearest its σ_dec, and names its data set when the sweep was
    trained on another."""
    chosen_dataset = chosen.config.dataset
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
            f"{dataset.title}), so the reconstruction term *and* the KL move: a large σ_dec lets the model stop "
            "using its code." + ("" if chosen_dataset == config["dataset"] else
                                 f" (The sweep is of {dataset.title} models, not of the {DATASETS[chosen_dataset].title} "
                                 "model chosen in the sidebar.)"))
    test, _ = store.dataset(config["dataset"], "test")
    top = st.columns([2, 1])
    labels = [f"{v:g}" for v in values]  # strings: a link's "2" matches the option, not 2.0 against 2
    state = st.session_state
    opening = f"{nearest_member(values, chosen.config.sigma_dec):g}"
    if state.get("elbo_sweep_for", chosen.name) != chosen.name:  # another model: open at the member nearest its σ
        state["elbo_sweep_sigma"] = opening
    state["elbo_sweep_for"] = chosen.name
    picked = top[0].select_slider("σ_dec of the model (trained at it)", options=labels, value=opening,
                                  key="elbo_sweep_sigma", bind="query-params", persist_state="session")
    sigma = values[labels.index(picked)]
    index = int(top[1].number_input(f"Test {dataset.noun}", 0, len(test) - 1, 0, key="elbo_index",
                                    bind="query-params", persist_state="session"))
    terms = store.sweep_member_terms(folder, index)
    i = values.index(sigma)
    point, mine = points[i], terms[i]
    picture, numbers = st.columns([1, 5], vertical_alignment="center")
    x = test.images[index].numpy() / 255.0
    images.show(images.enlarge(images.strip([x, mine["image"].reshape(x.shape)]), 2),
                f"Test {dataset.noun} #{index}, a {dataset.classes[test.labels[index]]}, beside its reconstruction "
                f"decode(μ) by the model trained at σ_dec = {sigma:g}", container=picture,
                caption=f"test #{index}: {dataset.classes[test.labels[index]]}, and decode(μ) at σ_dec = {sigma:g}")
    numbers.caption(f"This {dataset.noun}, under the model trained at σ_dec = {sigma:g}")
    metrics.row([("Reconstruction", f"{mine['reconstruction']:.2f}", "E_q[log p(x|z)], nats"),
                 ("Distortion", f"{mine['distortion']:.2f}", "E_q‖x − x̂‖², squared error summed over pixels"),
                 ("KL", f"{mine['kl']:.3f}", "KL(q(z|x) ‖ p(z)), nats"), ("ELBO", f"{mine['elbo']:.2f}")], numbers)
    numbers.caption("The test set, as stored with the sweep")
    metrics.row([("Test reconstruction", f"{reconstruction_term(point):.2f}", "ELBO + KL of the test set, nats"),
                 ("Test distortion", f"{point['distortion']:.2f}", "E‖x − x̂‖² of the test set"),
                 ("Test KL", f"{point['rate']:.3f}", "the rate: mean KL(q(z|x) ‖ p(z)) of the test set, nats"),
                 ("Active units", f"{point['active_dims']}/{config['latent_dim']}")], numbers)
    series = {
        "reconstruction": ([reconstruction_term(p) for p in points], [t["reconstruction"] for t in terms]),
        "distortion": ([p["distortion"] for p in points], [t["distortion"] for t in terms]),
        "kl": ([p["rate"] for p in points], [t["kl"] for t in terms])}
    # One chart a term, 320 px wide, in a row that wraps: three side by side in a wide window, one under another on a
    # phone or a tablet (three panels of one figure were 100 px each at a phone's width, titles and ticks overlapping).
    row = st.container(horizontal=True, gap="small")
    for name, pair in series.items():
        charts.show(plots.sweep_term(values, name, pair, sigma, collapse), f"{folder.name} · test #{index} · {name}",
                    key=f"elbo_sweep_chart_{name}", container=row, width=320,
                    alt=f"The {name} of each model of the sweep, one trained at each σ_dec (log axis): the test set "
                        f"(solid) and test #{index} (dotted). " + plots.describe_curves(
                            values, dict(zip(("test set", f"test #{index}"), pair)), "σ_dec",
                            "nats" if name != "distortion" else "squared error", at=sigma,
                            marks={"the chosen model": sigma} | ({"posterior collapse from": collapse}
                                                                 if collapse else {})))
    from vae.objective import gaussian_log_normalizer  # torch: only where the sweep mode is drawn

    pixels = int(test.images[0].numel())  # D
    shift = gaussian_log_normalizer(pixels, values[0]) - gaussian_log_normalizer(pixels, values[-1])
    st.caption(f"The reconstruction term cannot be compared across models trained at different σ_dec: it is "
               f"−‖x − x̂‖²/(2σ²) − (D/2)·log 2πσ², and its constant alone differs by {shift:,.0f} nats between "
               f"σ_dec = {values[0]:g} and {values[-1]:g}, whatever the models reconstruct. The distortion "
               "E‖x − x̂‖² is in the same units for every model: it says which reconstructs better.")
    images.show(images.enlarge(images.strip([t["image"].reshape(test.images.shape[1:]) for t in terms]), 3),
                f"Test #{index} reconstructed by each of the {len(values)} models, left to right σ_dec = "
                + ", ".join(f"{v:g}" for v in values)
                + (f"; from σ_dec = {collapse:g} on they are all the same blur" if collapse is not None else ""),
                caption="Its reconstruction by each model, σ_dec = " + ", ".join(f"{v:g}" for v in values)
                     + (f"; from σ_dec = {collapse:g} the posterior has collapsed: every image decodes to the same blur."
                        if collapse is not None else "."))
    st.caption("Nats per image, test figures as stored in each checkpoint's sweep.json (rate = KL; reconstruction = "
               "ELBO + KL); this image's with 64 samples of z.")
