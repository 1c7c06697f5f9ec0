"""Where models and data come from, cached for the whole server as read-only objects.

`st.cache_resource` objects are shared by every session: nothing here is mutated after it is
built (models are used under torch.no_grad in eval mode; tensors are only read). Everything a
session changes lives in `st.session_state`.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import streamlit as st

from vae import catalog

ROOT = Path(__file__).resolve().parent.parent
SHIPPED_DIR = ROOT / "checkpoints"
DEFAULT_MODEL = "mnist-2d-sigma0.3"
DEFAULT_MODELS = {"mnist": DEFAULT_MODEL, "fashion-mnist": "fashion-2d-sigma0.3"}
SWEEPS_DIR = SHIPPED_DIR / "sweeps"


def sweep_dirs() -> list[Path]:
    """The shipped rate–distortion sweeps: folders under checkpoints/sweeps/ holding a sweep.json."""
    return sorted(p.parent for p in SWEEPS_DIR.glob("*/sweep.json"))


def database():
    """The class store's engine (classroom.db): st.secrets["database"]["url"], else $VAE_DATABASE_URL, else SQLite in
    the state folder ($VAE_STATE_DIR, default ./state)."""
    from classroom import db

    try:
        url = st.secrets["database"]["url"]
    except Exception:  # no secrets file, or no [database] in it
        url = None
    return db.engine(url)


def saved_file(model) -> Path | None:
    """A saved model's checkpoint as a file this server can read: written once from the database into the state
    folder, named by the model's id and content hash (so it never changes under a reader); None when it is gone."""
    from classroom import db, models as saved

    path = db.state_dir() / "models" / f"{model.id}-{model.sha256[:16]}" / f"{model.name}{catalog.SUFFIX}"
    if not path.exists():
        data = saved.data(database(), model.id)
        if data is None:
            return None
        catalog.write_atomic(path, data)
    return path


def shipped_models() -> list[catalog.CheckpointInfo]:
    """Shipped checkpoints first, then the shipped sweeps' models (headers only: no torch)."""
    sweeps = [info for folder in sweep_dirs() for info in catalog.list_checkpoints(folder)]
    return catalog.list_checkpoints(SHIPPED_DIR) + sweeps


def reserved_names() -> set[str]:
    """Names nobody may save a model under: the shipped ones."""
    return {info.name for info in shipped_models()}


def available_models(identity: str | None = None) -> list[catalog.CheckpointInfo]:
    """What `identity` may open: the shipped models, then their own saved models, then those shared with them in a
    class (classroom.models.shared_with)."""
    from classroom import models as saved

    engine = database()
    infos = shipped_models()
    for model in saved.mine(engine, identity) + saved.shared_with(engine, identity):
        path = saved_file(model)
        if path is not None:
            try:
                infos.append(catalog.read_info(path))
            except catalog.CheckpointError:  # not a checkpoint after all: not listed
                continue
    return infos


def saved_model(info: catalog.CheckpointInfo):
    """The classroom.models.SavedModel behind a saved model's file (None for a shipped one)."""
    from classroom import db, models as saved

    if info.path.parent.parent != db.state_dir() / "models":
        return None
    return saved.find(database(), info.name)


def origin(info: catalog.CheckpointInfo, identity: str | None = None) -> str:
    """'shipped', 'sweep', 'yours' (saved by `identity`) or 'shared' (a classmate's, submitted to your class)."""
    folder = info.path.parent.resolve()
    if folder == SHIPPED_DIR.resolve():
        return "shipped"
    if folder.parent == SWEEPS_DIR.resolve():
        return "sweep"
    model = saved_model(info)
    return "yours" if model is not None and identity and model.owner == identity else "shared"


def _stamp(path: Path) -> int:
    return path.stat().st_mtime_ns


# The caches' one idiom: a checkpoint is known by its file and that file's version, never by its contents.
BY_FILE = {catalog.CheckpointInfo: lambda info: (str(info.path), _stamp(info.path))}


@st.cache_resource(show_spinner=False, max_entries=16, hash_funcs=BY_FILE)
def load_model(info: catalog.CheckpointInfo):
    """The validated checkpoint (model in eval mode on the CPU), cached per file version. Read-only."""
    from vae import checkpoint

    return checkpoint.load(info.path)


@st.cache_resource(show_spinner=False, max_entries=16, hash_funcs=BY_FILE)
def decoder(info: catalog.CheckpointInfo):
    """The checkpoint's decoder evaluated with numpy (no torch): `.decode(z)` → images. Read-only."""
    from vae.numpy_decoder import NumpyDecoder

    return NumpyDecoder.from_checkpoint(info.path)


@st.cache_resource(show_spinner=False, max_entries=16, hash_funcs=BY_FILE)
def stored_latents(info: catalog.CheckpointInfo) -> dict:
    """The precomputed test-set latents stored with a checkpoint (numpy, read-only); {} when absent."""
    if "test_mu" not in info.extras:
        return {}
    extras = catalog.read_extras(info.path)
    for array in extras.values():
        array.setflags(write=False)
    return extras


@st.cache_resource(show_spinner=False, max_entries=8, hash_funcs=BY_FILE)
def timeline(info: catalog.CheckpointInfo):
    """The training timeline saved with a model (vae.timeline.Timeline), None if it has none or an unreadable one.
    Read-only."""
    from vae.timeline import Timeline

    if "timeline_steps" not in info.extras:
        return None
    try:
        line = Timeline.from_extras(catalog.read_extras(info.path))
    except (ValueError, KeyError, IndexError):
        return None
    for snapshot in line.snapshots:
        snapshot.coords.setflags(write=False)
    return line


@st.cache_resource(show_spinner="Loading data…", max_entries=4)
def dataset(name: str, split: str):
    """(Dataset, float tensor [N, D]) for a split, found by vae.data's fallback chain. Read-only."""
    from vae.data import load_dataset

    data = load_dataset(name, split)
    return data, data.to_float()


def test_image(info: catalog.CheckpointInfo, index: int):
    """Test image `index` of the checkpoint's dataset, as the float tensor [D] the model takes."""
    return dataset(info.config.dataset, "test")[1][index]


@st.cache_resource(show_spinner=False, max_entries=4)
def binarised_test(name: str):
    """The test split binarised once as models trained on binarised images are scored (vae.evaluate.binarize_fixed,
    seed 0): floats 0 or 1, [N, D] as numpy. Read-only."""
    from vae.evaluate import binarize_fixed

    return binarize_fixed(dataset(name, "test")[1]).numpy()


@st.cache_resource(show_spinner=False, max_entries=16, hash_funcs=BY_FILE)
def test_means(info: catalog.CheckpointInfo):
    """(latent means [N, d] as float32 numpy, labels [N]) of the test set: stored, else encoded now. Read-only."""
    stored = stored_latents(info)
    if stored:
        return stored["test_mu"].astype("float32"), stored["test_labels"]
    from vae.latent import encode_dataset

    data, images = dataset(info.config.dataset, "test")
    mu, _ = encode_dataset(load_model(info).model, images)
    return mu.numpy(), data.labels.numpy()


@st.cache_resource(show_spinner="Projecting to 2-D…", max_entries=16, hash_funcs=BY_FILE)
def projection(info: catalog.CheckpointInfo, method: str):
    """PCA or t-SNE of the test-set means (t-SNE stored with shipped models, else computed once)."""
    from vae.latent import Projection, project

    stored = stored_latents(info)
    if method == "tsne" and "test_tsne" in stored:
        return Projection(stored["test_tsne"].astype("float64"), "tsne")
    return project(test_means(info)[0], method)


# σ_dec choices for sliders (they include every shipped model's σ), and the finer grid the curves are drawn on.
SIGMA_CHOICES = (0.01, 0.015, 0.02, 0.03, 0.05, 0.07, 0.1, 0.15, 0.2, 0.25, 0.3, 0.35, 0.4, 0.5, 0.6, 0.7, 0.8,
                 1.0, 1.2, 1.5, 2.0)


def nearest_sigma(sigma_dec: float) -> float:
    """The choice of SIGMA_CHOICES nearest a model's σ_dec on the sliders' log scale: where a σ_dec slider starts."""
    return min(SIGMA_CHOICES, key=lambda s: abs(np.log(s / sigma_dec)))


SIGMA_GRID = tuple(sorted(set(SIGMA_CHOICES) | {float(f"{s:.3g}") for s in np.geomspace(0.01, 2.0, 81)}))
BATCH = 256  # the test batch of the ELBO page: the first BATCH test digits
SWEEP_SAMPLES = 8  # L, the draws of z behind the ELBO page's reconstruction terms (seed 0, the same at every σ)


@st.cache_data(show_spinner=False, max_entries=64, hash_funcs=BY_FILE)
def sigma_sweep_for(info: catalog.CheckpointInfo, index: int):
    """The ELBO's parts at every σ in SIGMA_GRID for test digit `index` (column 0) and the test batch."""
    import torch

    from vae.decomposition import sigma_sweep

    images = dataset(info.config.dataset, "test")[1]
    x = torch.cat([images[index: index + 1], images[:BATCH]])
    return sigma_sweep(load_model(info).model, x, SIGMA_GRID, samples=SWEEP_SAMPLES, seed=0)


POSTERIOR_MC_SAMPLES = 10_000  # L of the ELBO on the posterior page (its Monte-Carlo error ≪ the gap)
POSTERIOR_IW_SAMPLES = 5000  # K of its IWAE estimate


@st.cache_data(show_spinner=False, max_entries=128, hash_funcs=BY_FILE)
def true_posterior_for(info: catalog.CheckpointInfo, index: int, sigma: float):
    """p(z|x) on a grid, q(z|x), log p(x), ELBO and KL(q ‖ p(z|x)) for test digit `index` at σ_dec (2-D models)."""
    from vae.posterior import true_posterior

    return true_posterior(load_model(info).model, test_image(info, index), sigma,
                          mc_samples=POSTERIOR_MC_SAMPLES, iw_samples=POSTERIOR_IW_SAMPLES)


@st.cache_data(show_spinner=False, max_entries=128, hash_funcs=BY_FILE)
def posterior_gaps_for(info: catalog.CheckpointInfo, index: int, sigmas: tuple[float, ...]) -> list[float]:
    """KL(q ‖ p(z|x)) by quadrature for test image `index` at each σ_dec (vae.posterior.posterior_gaps)."""
    from vae.posterior import posterior_gaps

    return posterior_gaps(load_model(info).model, test_image(info, index), sigmas)


@st.cache_data(show_spinner=False, max_entries=64, hash_funcs=BY_FILE)
def estimate_spread_for(info: catalog.CheckpointInfo, index: int) -> dict[int, float]:
    """The Monte-Carlo reconstruction term's spread against L for test image `index` (vae.generate.estimate_spread)."""
    from vae.generate import estimate_spread

    return estimate_spread(load_model(info).model, test_image(info, index))


SWEEP_BY_FILE = {Path: lambda folder: (str(folder), _stamp(folder / "sweep.json"))}


@st.cache_data(show_spinner="Scoring the image under each model of the sweep…", max_entries=32, hash_funcs=SWEEP_BY_FILE)
def sweep_member_terms(folder: Path, index: int) -> list[dict]:
    """Test image `index` under every model of a sweep, each at its own σ_dec (vae.sweep.member_terms), in sweep order."""
    from vae.sweep import load_results, member_terms

    results = load_results(folder)
    image = dataset(results["config"]["dataset"], "test")[1][index]
    members = [catalog.read_info(folder / f"{p['name']}{catalog.SUFFIX}") for p in results["points"]]
    return [dict(member_terms(load_model(info).model, image), value=p["value"])
            for info, p in zip(members, results["points"])]


# ---- Why q misses: the approximation gap and the amortisation gap (vae.gaps) ------------------------------------

GAP_TEST_IMAGES = 500  # the first N test images of a model's test-set gaps (as `python -m vae gaps` computes them)
GAP_SWEEP = SWEEPS_DIR / "mnist-16d-sigma"  # the sweep whose members' gaps are drawn against σ_dec


def gap_images(info: catalog.CheckpointInfo, count: int | None = None, first: int = 0):
    """Test images [first, first + count) as the model takes them (binarised as they were scored for a model trained
    on binarised images, as `python -m vae gaps` does) [N, D], and their labels [N]."""
    import torch

    data, images = dataset(info.config.dataset, "test")
    stop = len(data) if count is None else first + count
    x = torch.from_numpy(binarised_test(info.config.dataset)[first:stop]) if info.config.binarize else \
        images[first:stop]
    return x, data.labels[first:stop]


@st.cache_data(show_spinner=False, max_entries=64, hash_funcs=BY_FILE)
def gap_split_for(info: catalog.CheckpointInfo, index: int, sigma: float):
    """vae.gaps.split of test image `index` at σ_dec, with a progress bar while it is computed (made and emptied in
    here, so that a cache hit replays nothing to see). Read-only."""
    from vae.gaps import split

    bar, report = gap_progress(info.config.latent_dim, "Splitting the gap…")
    x, _ = gap_images(info, 1, index)
    found = split(load_model(info).model, x[0], sigma, on_progress=report)
    bar.empty()
    return found


def gap_progress(latent_dim: int, text: str):
    """A progress bar over vae.gaps.split_many's passes (d = 2: the grid integral and two ascents; d > 2: an ascent and
    IWAE), and its on_progress(done, total, what), which names the pass and the seconds so far: (bar, on_progress)."""
    import time

    passes = 3 if latent_dim == 2 else 2
    bar = st.progress(0.0, text=text)
    seen: list[str] = []
    began = time.perf_counter()

    def report(done, total, what):
        if what not in seen:
            seen.append(what)
        step = min(len(seen), passes)
        bar.progress(min(1.0, (step - 1 + done / max(total, 1)) / passes),
                     text=f"{what}: {done:,} of {total:,} (pass {step} of {passes}, "
                          f"{time.perf_counter() - began:.0f} s)")

    return bar, report


def _stamped(path: Path):
    return (str(path), _stamp(path)) if path.exists() else (str(path), None)


@st.cache_resource(show_spinner=False, max_entries=32, hash_funcs={Path: _stamped})
def gap_results(path: Path) -> dict | None:
    """The test-set gaps kept at `path` (vae.gaps.load_results), None when there are none or they do not read.
    Read-only (shared, not copied: a sweep's ten files are 4 MB)."""
    from vae.gaps import load_results

    if not path.exists():
        return None
    try:
        return load_results(path)
    except ValueError:
        return None


@st.cache_resource(show_spinner=False, max_entries=32, hash_funcs={Path: _stamped})
def gap_splits(path: Path) -> dict | None:
    """{test index: vae.gaps.GapSplit} of the test-set gaps kept at `path`, None where `gap_results` is. Read-only."""
    from vae.gaps import splits_of

    results = gap_results(path)
    return None if results is None else dict(zip((int(i) for i in results["index"]), splits_of(results)))


def shipped_gap_results(info: catalog.CheckpointInfo) -> dict | None:
    """A model's test-set gaps, kept beside its checkpoint (vae.gaps.results_path), or None."""
    from vae.gaps import results_path

    return gap_results(results_path(info.path))


@st.cache_resource(show_spinner=False, max_entries=32, hash_funcs={Path: _stamped})
def gap_spread(path: Path) -> dict | None:
    """{"sigma_dec", "approximation": vae.gaps.spread, "amortisation": …} of the test-set gaps kept at `path`, None
    where `gap_results` is (a sweep member's point against σ_dec, computed once per file version). Read-only."""
    from vae.gaps import spread

    splits = gap_splits(path)
    return None if splits is None else {"sigma_dec": gap_results(path)["sigma_dec"],
                                        **{g: spread(list(splits.values()), g) for g in ("approximation",
                                                                                        "amortisation")}}


def sweep_gap_points(folder: Path | None = None) -> list[dict]:
    """`gap_spread` of each member of a shipped sweep (GAP_SWEEP's) that has its gaps, in order of σ_dec."""
    folder = GAP_SWEEP if folder is None else folder
    found = [gap_spread(path) for path in sorted((folder / "gaps").glob("*.json"))]
    return sorted((p for p in found if p is not None), key=lambda p: p["sigma_dec"])
