"""A run's timeline: snapshots of the latent space taken as a model trains, for scrubbing and replay.

Each snapshot holds the step, the latent means of the probe digits on two dimensions, and the decoder's
map — decode(z) on an n×n grid of the plane z_a × z_b (the other dimensions at the prior's mean 0) over
the square [−frame, frame]² where the codes are then (`frame_for`), as a PNG.

Snapshots are due at steps 0, 1, 2, … growing by GROWTH each time (`next_due`), so early steps, where the
picture changes fastest, are dense; past MAX_SNAPSHOTS the snapshot whose neighbours are nearest on a log
scale goes (`thinned`). The steps kept depend on the step count alone, never on timing: a run recomputed
from its recipe and seed has the same ones.

A replay is drawn on fixed axes, those of the settled run's widest frame (`Timeline.frame`), each map at
its own frame on them: the cloud and the map move, and nothing re-scales.
"""
from __future__ import annotations

import io
import math
from dataclasses import dataclass, field

import numpy as np

# torch is imported where it is used: Explore reads a saved timeline (Timeline.from_extras) without torch

MAX_SNAPSHOTS = 100
GROWTH = 1.1  # each due step at least 10 % after the last
GRID = 15  # the map's tiles per side
MIN_FRAME = 3.0  # |z| ≤ 3 holds 99.7 % of the prior on each axis
SAVED_BYTES = 3_000_000  # a saved timeline's maps at most this many bytes (thinned further to fit)


def next_due(step: int) -> int:
    """The step of the snapshot after one at `step`: s + 1, or ⌈GROWTH·s⌉ once that is larger."""
    return max(step + 1, math.ceil(step * GROWTH))


def thinned(steps: list[int], keep: int = MAX_SNAPSHOTS) -> list[int]:
    """Indices of `steps` to keep (at most `keep`): while too many, drop the inner snapshot whose neighbours are
    nearest in log(1 + step), so the kept steps stay spread evenly on a log scale (the first and last always stay)."""
    kept = list(range(len(steps)))
    while len(kept) > max(keep, 2):
        logs = [math.log1p(steps[i]) for i in kept]
        gaps = [logs[j + 1] - logs[j - 1] for j in range(1, len(kept) - 1)]
        del kept[1 + int(np.argmin(gaps))]
    return kept


def frame_for(coords: np.ndarray) -> float:
    """The half-width of the square the map covers: wide enough for 99 % of the points on both axes, rounded up to
    a whole number, and at least MIN_FRAME (the prior's bulk)."""
    reach = float(np.quantile(np.abs(coords), 0.99)) if len(coords) else 0.0
    return max(MIN_FRAME, float(math.ceil(reach))) if math.isfinite(reach) else MIN_FRAME


def grid_points(frame: float, n: int = GRID) -> np.ndarray:
    """The map's latent points on one axis: n evenly spaced values from −frame to frame."""
    return np.linspace(-frame, frame, n)


def grid_latents(dims, latent_dim: int, frame: float, n: int = GRID) -> np.ndarray:
    """z for every tile [n·n, latent_dim], row i (from the top) and column j at (z_a, z_b) = (xs[j], xs[n−1−i]),
    every other dimension 0."""
    xs = grid_points(frame, n)
    across, up = np.meshgrid(xs, xs[::-1])
    z = np.zeros((n * n, latent_dim), dtype=np.float32)
    z[:, dims[0]] = across.ravel()
    z[:, dims[1]] = up.ravel()
    return z


def tiled(images: np.ndarray, n: int) -> np.ndarray:
    """[n·n, h, w] tiles in row order → one [n·h, n·w] picture."""
    _, h, w = images.shape
    return images.reshape(n, n, h, w).transpose(0, 2, 1, 3).reshape(n * h, n * w)


def png(picture: np.ndarray) -> bytes:
    """A [H, W] picture with values in [0, 1] as a grey PNG (zlib's default level: `optimize` made the 420×420 map
    2 % smaller in 46 ms instead of 6)."""
    from PIL import Image

    buffer = io.BytesIO()
    Image.fromarray(np.round(np.clip(picture, 0, 1) * 255).astype(np.uint8), mode="L").save(buffer, format="PNG")
    return buffer.getvalue()


def unpng(data: bytes) -> np.ndarray:
    """A map's PNG back to [H, W] uint8."""
    from PIL import Image

    return np.asarray(Image.open(io.BytesIO(data)).convert("L"))


def decoder_map(model, dims, frame: float, n: int = GRID) -> np.ndarray:
    """decode(z) on the map's grid (grid_latents) as one [n·h, n·w] picture in [0, 1]; the highest z_b at the top."""
    import torch

    from .latent import decode  # (under torch.no_grad)

    images = decode(model, torch.from_numpy(grid_latents(dims, model.config.latent_dim, frame, n))).numpy()
    return tiled(images.reshape(n * n, *images.shape[-2:]), n)


def plane_dims(latent_dim: int, kl_per_dim) -> list[int]:
    """The two dimensions drawn: the two with the most KL (the most active), in index order; (0, 0) for d = 1."""
    if latent_dim == 1:
        return [0, 0]
    if not len(kl_per_dim):
        return [0, 1]
    return sorted(int(i) for i in np.argsort(np.asarray(kl_per_dim))[::-1][:2])


@dataclass
class Snapshot:
    step: int
    epoch: float
    coords: np.ndarray  # [N, 2] float16: the probe digits' latent means on `dims`
    dims: list[int]
    frame: float
    map_png: bytes  # decoder_map over [−frame, frame]² (empty for d = 1)
    elbo: float | None = None  # the last recorded training means at or before this step
    kl: float | None = None


def take(model, probe_images, step: int, epoch: float, kl_per_dim, last: dict | None = None) -> Snapshot:
    """The model's picture now: the probe digits' latent means and, for d ≥ 2, the decoder's map."""
    from .latent import encode_dataset

    mu = encode_dataset(model, probe_images)[0].numpy()
    dims = plane_dims(mu.shape[1], kl_per_dim)
    coords = mu[:, dims]
    frame = frame_for(coords)
    picture = png(decoder_map(model, dims, frame)) if mu.shape[1] >= 2 else b""
    return Snapshot(step, epoch, coords.astype(np.float16), dims, frame, picture,
                    None if last is None else last["elbo"], None if last is None else last["kl"])


@dataclass
class Timeline:
    labels: np.ndarray  # [N] the probe digits' classes
    snapshots: list[Snapshot] = field(default_factory=list)
    due: int = 0  # the step at which the next snapshot is taken

    @property
    def steps(self) -> list[int]:
        return [s.step for s in self.snapshots]

    @property
    def frame(self) -> float:
        """The replay's fixed half-width: the widest frame of the settled run, the snapshots from a tenth of its last
        step on. (Early on the codes can fly far out for a few dozen steps, to ±12 where they settle within ±4: on
        axes wide enough for them, every later map was a small square in the middle. Those few snapshots show their
        cloud leaving the axes, and say how many points are outside.)"""
        last = self.snapshots[-1].step if self.snapshots else 0
        return max((s.frame for s in self.snapshots if s.step >= last / 10), default=MIN_FRAME)

    def add(self, snapshot: Snapshot, due: bool = True) -> None:
        """Keep `snapshot` (one at the same step replaces it), thin to MAX_SNAPSHOTS, and set the next due step (not
        for a snapshot taken out of turn, `due` False: a step a link asks to show)."""
        if self.snapshots and self.snapshots[-1].step == snapshot.step:
            self.snapshots[-1] = snapshot
        else:
            self.snapshots.append(snapshot)
        if len(self.snapshots) > MAX_SNAPSHOTS:
            self.snapshots = [self.snapshots[i] for i in thinned(self.steps)]
        if due:
            self.due = next_due(snapshot.step)

    def at(self, step: int) -> Snapshot:
        """The last snapshot taken at or before `step` (the first if `step` precedes them all)."""
        if not self.snapshots:
            raise LookupError("the timeline has no snapshots yet")
        index = max(0, int(np.searchsorted(self.steps, step, side="right")) - 1)
        return self.snapshots[index]

    def nbytes(self) -> int:
        return sum(len(s.map_png) + s.coords.nbytes for s in self.snapshots)

    # -- in a checkpoint ---------------------------------------------------------------------------------------
    def to_extras(self, max_bytes: int = SAVED_BYTES) -> dict:
        """The timeline as checkpoint tensors (vae.checkpoint extras), thinned until its maps fit `max_bytes`."""
        import torch

        snapshots = self.snapshots
        keep = len(snapshots)
        while keep > 2 and sum(len(s.map_png) for s in snapshots) > max_bytes:
            keep = max(2, int(keep * 0.8))
            snapshots = [self.snapshots[i] for i in thinned(self.steps, keep)]
        if not snapshots:
            return {}
        maps = b"".join(s.map_png for s in snapshots)
        offsets = np.cumsum([0] + [len(s.map_png) for s in snapshots])
        nan = float("nan")
        return {
            "timeline_labels": torch.from_numpy(np.asarray(self.labels, dtype=np.uint8)),
            "timeline_steps": torch.tensor([s.step for s in snapshots], dtype=torch.int64),
            "timeline_epochs": torch.tensor([s.epoch for s in snapshots], dtype=torch.float64),
            "timeline_coords": torch.from_numpy(np.stack([s.coords for s in snapshots]).astype(np.float16)),
            "timeline_dims": torch.tensor([s.dims for s in snapshots], dtype=torch.int64),
            "timeline_frames": torch.tensor([s.frame for s in snapshots], dtype=torch.float64),
            "timeline_elbo_kl": torch.tensor([[nan if s.elbo is None else s.elbo, nan if s.kl is None else s.kl]
                                              for s in snapshots], dtype=torch.float64),
            "timeline_maps": torch.frombuffer(bytearray(maps), dtype=torch.uint8) if maps else
            torch.zeros(0, dtype=torch.uint8),
            "timeline_map_offsets": torch.from_numpy(offsets.astype(np.int64)),
        }

    @classmethod
    def from_extras(cls, extras: dict) -> "Timeline | None":
        """The timeline kept in a checkpoint's extras (torch tensors or numpy arrays), or None: a checkpoint saved
        before timelines existed, or one whose timeline does not hold together (an upload: ValueError)."""
        if "timeline_steps" not in extras:
            return None
        get = {name: np.asarray(extras[f"timeline_{name}"]) for name in
               ("labels", "steps", "epochs", "coords", "dims", "frames", "elbo_kl", "maps", "map_offsets")}
        k = len(get["steps"])
        offsets = get["map_offsets"].tolist()
        if not (get["coords"].shape[:1] == get["dims"].shape[:1] == get["frames"].shape == get["epochs"].shape == (k,)
                and get["elbo_kl"].shape == (k, 2) and len(offsets) == k + 1 and offsets[0] == 0
                and offsets == sorted(offsets) and offsets[-1] == get["maps"].size
                and get["coords"].shape[1:] == (len(get["labels"]), 2)):
            raise ValueError("the checkpoint's timeline does not hold together")
        maps = get["maps"].tobytes()
        nan_free = lambda v: None if math.isnan(v) else float(v)  # noqa: E731
        snapshots = [Snapshot(int(step), float(epoch), coords, [int(d) for d in dims], float(frame),
                              maps[offsets[i]: offsets[i + 1]], nan_free(ek[0]), nan_free(ek[1]))
                     for i, (step, epoch, coords, dims, frame, ek) in enumerate(zip(
                         get["steps"].tolist(), get["epochs"].tolist(), get["coords"], get["dims"].tolist(),
                         get["frames"].tolist(), get["elbo_kl"].tolist()))]
        timeline = cls(get["labels"], snapshots)
        timeline.due = next_due(snapshots[-1].step) if snapshots else 0
        return timeline
