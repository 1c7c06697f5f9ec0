"""Why q misses the posterior: the ELBO's gap split into the approximation gap and the amortisation gap (Cremer, Li &
Duvenaud, ICML 2018), for one image and across the test set, and the remedy: K steps of ascent from q_φ."""
import streamlit as st

from ui import charts, images, plots, store
from ui.learn import equation
from ui.sidebar import chosen_model, data_notice, models_sigma
from ui.text import plain
from vae import gaps
from vae.data import DATASETS

info = chosen_model()
config = info.config
noun = DATASETS[config.dataset].noun
classes = DATASETS[config.dataset].classes
name = plain(info.name)
st.header("Why q misses the posterior: the approximation gap and the amortisation gap")
st.markdown(
    "The ELBO falls short of the evidence log p(x) by KL(q_φ ‖ p(z|x)). Cremer, Li & Duvenaud (ICML 2018) split that "
    "shortfall in two, with q\\* the best diagonal Gaussian for this image alone:")
equation(r"&\log p_\theta(x) - \mathrm{ELBO}(q_\phi)", r"&\quad = \big[\log p_\theta(x) - \mathrm{ELBO}(q^*)\big]",
         r"&\quad\quad + \big[\mathrm{ELBO}(q^*) - \mathrm{ELBO}(q_\phi)\big]")  # the path's step 4: a phone holds it
st.markdown(
    "- The **approximation gap**, the first bracket, is KL(q\\* ‖ p(z|x)): what no Gaussian with a diagonal "
    "covariance can reach, however well it is chosen. Only a richer family for q (full covariance, a flow) closes it.\n"
    "- The **amortisation gap**, the second, is what q_φ gives away by being one encoder for every image: the "
    "encoder's guess q_φ(z|x) is not the best Gaussian for this image. Optimising q for this image alone closes it "
    "(section 3).")

if config.likelihood == "bernoulli" and not config.binarize:
    st.info("This model's Bernoulli decoder was trained on grey levels, where its log p(x|z) is not a normalised "
            "probability: log p(x) has no meaning for it, and neither has a gap below it. Choose a Gaussian model, "
            "or one trained on binarised images, for this page.")
    st.stop()

test, _ = store.dataset(config.dataset, "test")
data_notice(test)
state = st.session_state
gaussian = config.likelihood == "gaussian"
nearest = models_sigma("gaps_sigma", info)  # the model's own σ_dec, where the slider starts


def show_image(index: int) -> None:
    """A test image's number becomes section 1's (a click on one of the images with the largest amortisation gap)."""
    st.session_state["gaps_index"] = index


# ---- 1. The split for one image --------------------------------------------------------------------------------
st.subheader(f"1. The split for one {noun}")
top = st.columns([2, 1])
if gaussian:
    sigma = top[0].select_slider(
        "σ_dec — the decoder's noise", options=list(store.SIGMA_CHOICES), value=nearest, key="gaps_sigma",
        bind="query-params", persist_state="session",
        help="The encoder q_φ stays as trained; the true posterior, q\\* and every figure here move with σ_dec.")
    sigma = float(sigma)
else:
    top[0].caption("Bernoulli decoder on binarised images: no σ_dec to move.")
    sigma = float(config.sigma_dec)
index = int(top[1].number_input(f"Test {noun}", 0, len(test) - 1, 0, key="gaps_index", bind="query-params",
                                persist_state="session"))

found = store.gap_split_for(info, index, sigma)
grid = found.log_px_how == "grid"
if grid:
    evidence_how = "grid integral over the latent plane, refined until a halving of the cells moves it < 0.01"
    elbo_how = f"Gauss–Hermite quadrature, {gaps.SCORE_NODES}×{gaps.SCORE_NODES} nodes (error: the change from half)"
else:
    evidence_how = (f"IWAE with q\\* as proposal, K = {gaps.IWAE_SAMPLES:,}, mean of {gaps.IWAE_REPEATS} repeats: "
                    "a lower bound")
    elbo_how = f"Monte Carlo, {gaps.SCORE_SAMPLES:,} draws shared by q_φ and q\\* (error: standard error)"
rows = [
    ("log p(x)", evidence_how, found.log_px, found.log_px_error),
    ("ELBO(q_φ), the encoder's q", elbo_how, found.elbo_amortised, found.elbo_error),
    ("ELBO(q\\*), the best Gaussian for this image", elbo_how + "; q\\* by ascent from q_φ"
     + (" and from the posterior's moments" if grid else ""), found.elbo_optimal, found.elbo_error),
    ("**total gap** log p(x) − ELBO(q_φ)", "the difference of the first two", found.total, found.total_error),
    ("**approximation gap** log p(x) − ELBO(q\\*)", "the difference" + ("" if grid else ": estimated from below"),
     found.approximation, found.approximation_error),
    ("**amortisation gap** ELBO(q\\*) − ELBO(q_φ)", "the difference, on paired draws", found.amortisation,
     found.amortisation_error),
]
left, right = st.columns([3, 1])
left.markdown("| quantity | how it is estimated | nats | ± error |\n|---|---|---:|---:|\n" + "\n".join(
    f"| {what} | {how} | {value:.3f} | {error:.3f} |" for what, how, value, error in rows))
x, labels = store.gap_images(info, 1, index)
label = classes[int(labels[0])]
picture = images.enlarge(images.to_uint8(x[0].numpy().reshape(28, 28)), 4)
images.show(picture, f"Test {noun} #{index}, a {label}" + (", binarised as the model was scored" if config.binarize
                                                            else ""),
            caption=f"test #{index}: {label}", container=right)
larger = "amortisation" if found.amortisation > found.approximation else "approximation"
share = found.amortisation / found.total if found.total > 0 else float("nan")
left.markdown(
    f"For this {noun}" + (f" at σ_dec = {sigma:g}" if gaussian else "") + " the ELBO misses log p(x) by "
    f"{found.total:.3f} nats: "
    f"{found.approximation:.3f} because q is a diagonal Gaussian, {found.amortisation:.3f} because the encoder "
    f"amortises. The {larger} gap is the larger"
    + (f" (the amortisation gap is {100 * share:.0f} % of the total)." if found.total > 0 else "."))
if not grid:
    st.info(f"This model has a {config.latent_dim}-D latent space, where log p(x) cannot be integrated on a grid: "
            f"it is estimated by IWAE with q\\* as its proposal, which is a lower bound (IWAE ≤ log p(x)). So the "
            "approximation gap is estimated from below, and the total gap with it. And q\\* is the optimum an ascent "
            "of the ELBO from q_φ reaches, a local one: a better optimum elsewhere would move part of what is counted "
            "here as the approximation gap into the amortisation gap.")

if grid:
    post = store.true_posterior_for(info, index, sigma)
    zoom = (post.q_xs, post.q_ys, post.q_log_posterior) if plots.q_is_small(post.xs, post.ys, post.sigma) else None
    mu, sd, best_mu, best_sd = found.mu, found.sigma, found.optimal_mu, found.optimal_sigma
    chart, words = st.columns([3, 2])
    charts.show(plots.posterior_contours(post.xs, post.ys, post.log_posterior, mu, sd, post.posterior_mean,
                                         zoom=zoom, optimal=(best_mu, best_sd)),
                f"{info.name} · test #{index} · σ_dec = {sigma:g} · q_φ and q*", key="gaps_contours", container=chart,
                alt=f"Contours of the true posterior p(z|x) for test #{index} at σ_dec = {sigma:g}, its mean at "
                    f"({post.posterior_mean[0]:.2f}, {post.posterior_mean[1]:.2f}); the encoder's q_φ as crimson "
                    f"ellipses at 1σ and 2σ around ({mu[0]:.2f}, {mu[1]:.2f}) with σ = ({sd[0]:.3f}, {sd[1]:.3f}); "
                    f"q*, the best diagonal Gaussian for this image, as green dotted ellipses around "
                    f"({best_mu[0]:.2f}, {best_mu[1]:.2f}) with σ = ({best_sd[0]:.3f}, {best_sd[1]:.3f})"
                    + ("; a second panel zooms onto q." if zoom is not None else "."))
    words.markdown(
        "**Reading it.** The blue contours are the true posterior p(z|x), on a grid. The crimson ellipses are the "
        "encoder's q_φ, the green dotted ones q\\*, the best diagonal Gaussian for this image alone. **The distance "
        "from green to blue is the approximation gap**: q\\* is as close as an axis-aligned Gaussian gets, and where "
        "the posterior is tilted, curved or has two modes, it stays apart. **The distance from crimson to green is "
        f"the amortisation gap**: here {found.amortisation:.3f} nats, what the encoder's guess loses against the "
        "best Gaussian it could have given.")
    if zoom is not None:
        words.caption("q is small beside the true posterior at this σ_dec: the right panel zooms onto it.")

# ---- 2. Across the test set --------------------------------------------------------------------------------------
st.subheader("2. Across the test set")
session_results = state.setdefault("gaps_session_results", {})
key = (str(info.path), info.path.stat().st_mtime_ns)
results = store.shipped_gap_results(info)
splits = None if results is None else list(store.gap_splits(gaps.results_path(info.path)).values())  # cached
results = results or session_results.get(key)
if results is None:
    st.markdown(f"No test-set gaps are kept for {name}. They take a few minutes for the first "
                f"{store.GAP_TEST_IMAGES:,} test {noun}s; they are kept for this session.")
    if st.button(f"Compute the gaps of the first {store.GAP_TEST_IMAGES:,} test {noun}s", key="gaps_compute"):
        bar, report = store.gap_progress(config.latent_dim, "Splitting the gaps…")
        xs, ls = store.gap_images(info, store.GAP_TEST_IMAGES)
        session_results[key] = gaps.test_set(store.load_model(info).model, xs, ls.tolist(), range(len(ls)),
                                             on_progress=report, name=info.name)
        bar.empty()
        results = session_results[key]
if results is not None:
    splits = splits or gaps.splits_of(results)
    head = gaps.summary(splits)
    trained_sigma = results["sigma_dec"]
    st.markdown(
        f"Over {head['images']:,} test {noun}s of {name}"
        + (f" at its trained σ_dec = {trained_sigma:g}" if gaussian else "") + ": the total gap is "
        f"{head['total']['mean']:.2f} nats on average (median {head['total']['median']:.2f}), the approximation gap "
        f"{head['approximation']['mean']:.2f} (median {head['approximation']['median']:.2f}) and the amortisation "
        f"gap {head['amortisation']['mean']:.2f} (median {head['amortisation']['median']:.2f}). The amortisation gap "
        f"is the larger for {100 * head['amortisation_larger']:.0f} % of them.")
    if gaussian and abs(sigma - trained_sigma) > 1e-9:
        st.caption(f"These are at σ_dec = {trained_sigma:g}, the model's own; section 1 is at σ_dec = {sigma:g}.")
    values = {"approximation": [s.approximation for s in splits], "amortisation": [s.amortisation for s in splits]}
    by_class = []
    for c, cls in enumerate(classes):
        chosen = [s for s, lab in zip(splits, results["label"]) if lab == c]
        if chosen:
            part = gaps.summary(chosen)
            by_class.append(f"{cls}: {part['approximation']['median']:.2f} and {part['amortisation']['median']:.2f}")
    charts.show(plots.gaps_by_class(values, results["label"], classes),
                f"{info.name} · {head['images']} test {noun}s · the two gaps by class", key="gaps_by_class",
                alt=f"Box plots of the approximation gap (left) and the amortisation gap (right) of {head['images']} "
                    f"test {noun}s, one box per class in the classes' colours. Medians, approximation and "
                    "amortisation, in nats: " + "; ".join(by_class) + ".")
    order = sorted(range(len(splits)), key=lambda i: -splits[i].amortisation)[:8]
    st.markdown(f"**The {len(order)} {noun}s with the largest amortisation gap.** Click one to split its gap above.")
    cells = st.columns(len(order))
    for cell, i in zip(cells, order):
        test_index = int(results["index"][i])
        cls = classes[int(results["label"][i])]
        thumb = images.enlarge(images.to_uint8(store.gap_images(info, 1, test_index)[0][0].numpy().reshape(28, 28)), 2)
        images.show(thumb, f"Test {noun} #{test_index}, a {cls}: amortisation gap {splits[i].amortisation:.2f} nats",
                    caption=f"#{test_index}: {splits[i].amortisation:.2f}", container=cell, width="stretch")
        cell.button(f"#{test_index}", key=f"gaps_pick_{test_index}", on_click=show_image, args=(test_index,),
                    help=f"Split the gap of test #{test_index} in section 1", width="stretch")

    points = store.sweep_gap_points()
    st.markdown("**Against σ_dec.**")
    if points:
        charts.show(plots.gaps_against_sigma(points, config.sigma_dec if info.path.parent == store.GAP_SWEEP
                                             else None),
                    f"The sweep's {len(points)} 16-D models · the two gaps against σ_dec", key="gaps_sweep",
                    alt="The approximation gap and the amortisation gap against σ_dec (log axis) over the shipped "
                        f"sweep's {len(points)} 16-D models, mean with the interquartile range: "
                        + "; ".join(f"σ_dec = {p['sigma_dec']:g}: {p['approximation']['mean']:.2f} and "
                                    f"{p['amortisation']['mean']:.2f} nats" for p in points) + ".")
        st.caption("These are the shipped sweep's 16-D models (one hidden layer), each trained at its own "
                   "σ_dec and scored there. Their log p(x) is IWAE's, a lower bound: the approximation gap is "
                   f"estimated from below. Both axes are logarithmic; a mean below {plots.GAP_FLOOR:g} nats (a "
                   "collapsed posterior's) is drawn at it.")
    else:
        st.caption("The shipped sweep's gaps are not there yet (python -m vae gaps on "
                   "checkpoints/sweeps/mnist-16d-sigma/*.safetensors writes them).")

    st.markdown("**Beside Cremer, Li & Duvenaud (2018).** Their abstract concludes that \"divergence from the true "
                "posterior is often due to imperfect recognition networks, rather than the limited complexity of the "
                "approximating distribution\": "
                + ("here too, the amortisation gap is the larger for " if head["amortisation_larger"] > 0.5 else
                   "here it is not so: the amortisation gap is the larger for only ")
                + f"{100 * head['amortisation_larger']:.0f} % of the {head['images']:,} test {noun}s. We "
                "could not fetch the paper's table on this machine (it has no internet), so its numbers are not quoted "
                "here. Their "
                "setup, as the authors' published code has it, differs from ours: they use binarised "
                "MNIST with a Bernoulli decoder, encoder and decoder 784-200-200-z with z = 50, trained for 3,280 "
                "epochs; their q\\* is found by Adam from the prior with 50–100 samples per step, and their log p(x) "
                "by annealed importance sampling. Ours: Gaussian decoders on grey levels, 2-D and 16-D latents, one "
                "hidden layer, trained for 50 epochs or fewer; q\\* by ascent from q_φ, log p(x) by grid quadrature "
                "(2-D) or IWAE (d > 2). Our mnist-bernoulli-50d (Bernoulli on binarised MNIST, z = 50, "
                "784-512-512-50, 500 epochs) is the closest to theirs"
                + (": this is it." if info.name == "mnist-bernoulli-50d" else ": choose it in the sidebar to compare."))

# ---- 3. The remedy: semi-amortised refinement ------------------------------------------------------------------
st.subheader("3. A remedy to try: semi-amortised refinement")
st.markdown("Start at the encoder's q_φ and take K steps of gradient ascent on this image's ELBO (Adam on μ and log σ, "
            "Kim et al., ICML 2018): each step closes part of the amortisation gap, never the approximation gap.")
mine = gaps.refinement_gains([found])
series = {f"test #{index}": [mine[k]["gain"] for k in mine]}
mean_gains = gaps.refinement_gains(splits) if results is not None else None
if mean_gains is not None:
    series["test-set mean"] = [mean_gains[k]["gain"] for k in mean_gains]
steps = list(mine)
charts.show(plots.refinement_curve(steps, series), f"{info.name} · the ELBO gained by K steps from q_φ",
            key="gaps_refine",
            alt="The ELBO gained by K steps of ascent from q_φ, against K = " + ", ".join(str(k) for k in steps)
                + f": for test #{index}, " + ", ".join(f"{mine[k]['gain']:.3f}" for k in steps) + " nats"
                + ("; the test set's mean, " + ", ".join(f"{mean_gains[k]['gain']:.3f}" for k in steps) + " nats"
                   if mean_gains is not None else "") + ".")


def percent(share) -> str:
    return "–" if share is None else f"{100 * share:.0f} %"


header = "| K | gained, this image | share of its amortisation gap |" + (
    " gained, test-set mean | share of the mean amortisation gap |" if mean_gains else "")
table = [header, "|---:" * (5 if mean_gains else 3) + "|"]
for k in steps:
    row = f"| {k} | {mine[k]['gain']:.3f} | {percent(mine[k]['share'])} |"
    if mean_gains:
        row += f" {mean_gains[k]['gain']:.3f} | {percent(mean_gains[k]['share'])} |"
    table.append(row)
st.markdown("\n".join(table))
last = steps[-1]
st.caption("The share is the ELBO gained over the amortisation gap ELBO(q\\*) − ELBO(q_φ). q\\* is the best point of "
           f"a longer ascent (K = {last} steps, then {gaps.POLISH_STEPS} more at a falling rate"
           + (", and of a second ascent from the true posterior's moments" if grid else "") + f"), so {last} steps "
           f"from q_φ may stop short of it: here they close {percent(mine[last]['share'])} of this image's gap"
           + (f", and {percent(mean_gains[last]['share'])} of the test set's mean gap (at the model's σ_dec = "
              f"{results['sigma_dec']:g})" if mean_gains is not None else "")
           + (": where the encoder's guess is far off, the remedy needs more steps." if mean_gains is not None
              and (mean_gains[last]["share"] or 1) < 0.95 else "."))
