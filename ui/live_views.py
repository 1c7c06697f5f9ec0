"""Train live's pictures of the latent space: the cloud and the decoder's map, live or at a snapshot of the run's
timeline (vae.timeline), the timeline's scrubber and replay, and a slow-motion step.

The map is decoded on the server (in the training process) and travels as a PNG of 15×15 tiles, 70–160 kB (about
110 kB inside its Plotly figure) every 2 s; decoding it in the browser would need the decoder's weights each time
instead (1.08 MB as base64 for a 2-D model of hidden width 256), about ten times the bytes. See
benchmarks/live_map.py.
"""
from __future__ import annotations

import base64
from dataclasses import dataclass

import numpy as np
import streamlit as st

from ui import charts, images, plots
from vae import timeline as tl

SPEEDS = {"½×": 1.0, "1×": 2.0, "2×": 4.0}  # a replay's snapshots per second
STARTING = "starting"  # a replay's state before its first frame
# The cloud's height, and the map's plot area (square: its tiles stay square). The cloud is as wide as its column: a
# square cloud of fixed width ran 106 px past its column at 900 px (Vega has no aspect ratio for a fluid width).
HEIGHT = 260
MAP_ROOM = 150  # px of the map's figure outside its plot: its title above, its axis below


def axes(frame: float) -> tuple[tuple[float, float], tuple[float, float]]:
    """The plot ranges of a frame: [−frame, frame] and the map's outer half tile on each side."""
    edge = frame + frame / (tl.GRID - 1)
    return (-edge, edge), (-edge, edge)


def ticks(edge: float) -> list[int]:
    """Whole numbers marked on both plots' axes, 1, 2 or 5 apart: the same on the cloud and the map."""
    step = 1 if edge <= 5 else 2 if edge <= 10 else 5
    return list(range(-int(edge // step) * step, int(edge) + 1, step))


def picture_views(picture: tl.Snapshot, labels, classes, noun: str, frame: float, when: str,
                  key: str = "live_map") -> None:
    """The probe digits' latent means (the cloud) and the decoder's map of `picture`, side by side on the same axes,
    those of `frame` (the live frame, or the replay's fixed one)."""
    titles = tuple(f"z{d + 1}" for d in picture.dims)
    ranges = axes(frame)
    coords = picture.coords.astype(np.float32)
    n = len(coords)
    cloud, decoder_map = st.columns(2)
    with cloud:
        st.caption(f"Latent means of {n:,} test {noun}s {when} ({titles[0]}, {titles[1]}: the most active "
                   "dimensions)")
        inside = int(np.all(np.abs(coords) <= ranges[0][1], axis=1).sum())
        st.vega_lite_chart(spec=plots.class_scatter(coords, labels, classes, titles, height=HEIGHT, ranges=ranges,
                                                    ticks=ticks(ranges[0][1])),
                           alt=f"Scatter plot of the latent means of {n:,} test {noun}s on {titles[0]} (across) and "
                               f"{titles[1]} (up) from {ranges[0][0]:.1f} to {ranges[0][1]:.1f}, each class its own "
                               f"colour and shape; {inside:,} of them inside the axes.")
        if inside < n:
            st.caption(f"{n - inside:,} of the {n:,} lie outside these axes at this step.")
    with decoder_map:
        if not picture.map_png:
            st.caption("The decoder's map needs at least two latent dimensions.")
            return
        xs = tl.grid_points(picture.frame)
        source = "data:image/png;base64," + base64.b64encode(picture.map_png).decode()
        figure = plots.manifold_picture(source, tl.GRID, tl.GRID, xs, xs, ranges, height=HEIGHT + MAP_ROOM,
                                        axis_titles=titles, square=True, ticks=ticks(ranges[0][1]))
        charts.show(figure, f"decode(z) on a {tl.GRID}×{tl.GRID} grid {when}", key=key,
                    alt=f"The decoder's map {when}: a {tl.GRID}×{tl.GRID} grid of {noun}s decoded at evenly spaced "
                        f"points of {titles[0]} (across) and {titles[1]} (up) from {-picture.frame:.0f} to "
                        f"{picture.frame:.0f}, every other dimension 0, on the scatter's axes.")


def pad_weight_bytes(layers) -> int:
    """What one copy of the decoder's weights costs on the wire: float32 as base64 (4 bytes → 5⅓ characters)."""
    return sum(4 * (w.size + b.size) for w, b in layers) * 4 // 3


def live_pad(token: str, got: dict, image_shape, every: float) -> None:
    """The latent pad on a live run's decoder: the weights of each step it is drawn at travel to the browser, which
    decodes while the student drags (ui/latent_pad); the student's z stays while the decoder changes under it."""
    from ui.latent_pad import latent_pad
    from vae.numpy_decoder import NumpyDecoder  # the decoder as the pad's payload takes it: its layers and shape

    means, dims = got["means"], got["dims"]
    if means.shape[1] < 2:
        st.caption("The pad needs at least two latent dimensions.")
        return
    frame = tl.frame_for(means[:, dims])
    z = (st.session_state.get("live_pad") or {}).get("z")
    if z is None or len(z) != means.shape[1]:
        z = [0.0] * means.shape[1]
    st.caption(f"The decoder at step {got['step']:,}: drag over the plane of z{dims[0] + 1} and z{dims[1] + 1} (or "
               f"focus it and use the arrow keys); while the run trains, its new weights arrive every {every:.0f} s "
               f"({pad_weight_bytes(got['layers']) / 1e6:.1f} MB each) and the digit under your z changes with them.")
    decoder = NumpyDecoder(got["layers"], tuple(image_shape))
    latent_pad(f"live-{token}-{got['step']}", decoder, means, got["labels"], dims, axes(frame), z, key="live_pad",
               family=f"live-{token}")


def reconstructions(snap: dict, noun: str) -> None:
    st.caption(f"Test {noun}s (top) and their reconstructions (bottom) at step {snap['step']:,}")
    images.show(images.enlarge(images.strip(snap["originals"]), 3), f"{len(snap['originals'])} test {noun}s in a row")
    images.show(images.enlarge(images.strip(snap["recon"]), 3),
                f"Their reconstructions decode(μ) at step {snap['step']:,}, in the same order")


def step_detail(detail: dict, noun: str) -> None:
    """What one Adam step changed on its own minibatch: the batch's terms before and after, and its first images
    with their reconstructions before and after."""
    before, after = detail["before"], detail["after"]
    step = detail["step"]
    with st.container(border=True, key="live_step_detail"):
        st.markdown(f"**Slow motion: step {step:,} → {step + 1:,}**, one Adam step (learning rate "
                    f"{detail['lr']:g}, β {detail['beta']:g}) on a minibatch of {detail['batch_size']} {noun}s")
        rows = {"ELBO": "elbo", "reconstruction E_q[log p(x|z)]": "reconstruction", "KL(q ‖ p(z))": "kl"}
        table = [{"the minibatch's mean (nats)": name, "before": f"{before[key]:.2f}", "after": f"{after[key]:.2f}",
                  "change": f"{after[key] - before[key]:+.2f}"} for name, key in rows.items()]
        st.table(table)
        st.caption("Before and after are the same estimate: one draw ε per image, the same draws both times, so the "
                   "change is the step's own. The step itself follows −(reconstruction − β·KL) downhill.")
        shown = len(detail["images"])
        for title, key in ((f"The minibatch's first {shown} {noun}s", "images"),
                           ("their reconstructions decode(μ) before the step", "recon_before"),
                           ("and after it", "recon_after")):
            st.caption(title)
            images.show(images.enlarge(images.strip(detail[key]), 2), f"{title}, in the same order")


@dataclass(frozen=True)
class Player:
    """A timeline's scrubber and replay (Train live's paused run, a saved model's timeline): its state's keys.
    The fragment that shows it runs at `every()`: the replay's pace while it replays."""
    at: str  # the scrubber's step (its widget key)
    replaying: str
    speed: str
    last: str  # the timeline's latest step when it was last drawn: a scrubber there follows the run
    replay: str  # the Replay button's key
    chart: str  # the map's chart key
    playhead: str  # the replay's step

    @classmethod
    def named(cls, prefix: str) -> "Player":
        return cls(*(f"{prefix}_{part}" for part in ("at", "replaying", "speed", "last", "replay", "map", "playhead")))

    def every(self, otherwise: float | None) -> float | None:
        state = st.session_state
        return 1 / SPEEDS.get(state.get(self.speed) or "1×", 2.0) if state.get(self.replaying) else otherwise

    def stop(self) -> None:
        st.session_state[self.replaying] = False

    def show(self, line: tl.Timeline, classes, noun: str, now: tl.Snapshot | None = None) -> int:
        """The scrubber (a progress bar while it replays), the replay's controls, and the cloud and map at the
        chosen step, on the axes of the settled run (Timeline.frame); `now`: the picture at the step a paused run is
        at (after the last snapshot). A replay moves on one snapshot per run of its fragment; its start, its end and
        a new speed rerun the whole page (the fragment's pace changes). Returns the step shown.

        While it replays the scrubber is not drawn: a slider whose value the server moves four times a second sent
        its stale value back with the fragment's next timed run, which Streamlit read as the student's (the replay
        stopped, at the step before)."""
        state = st.session_state
        steps = line.steps + ([now.step] if now is not None and now.step > line.steps[-1] else [])
        last = steps[-1]
        replaying = state.get(self.replaying)
        if replaying:
            at = state.get(self.playhead, steps[0])
            if replaying == STARTING:
                state[self.replaying] = True  # its first run shows the step it starts from
            else:
                later = [s for s in steps if s > at]
                if not later:
                    self.finish(at)
                at = state[self.playhead] = later[0]
            done = sum(s <= at for s in steps) / len(steps)
            st.progress(done, text=f"Replaying the timeline: step {at:,} of {last:,}")
        else:
            at = self.scrubber(steps)
        self.controls(steps, at)
        picture = now if now is not None and at == now.step else line.at(at)
        when = f"at step {at:,}" + (" (now)" if now is not None and at == now.step else f" of {last:,}")
        picture_views(picture, line.labels, classes, noun, max(line.frame, now.frame if now else 0), when,
                      key=self.chart)
        if picture.elbo is not None and picture is not now:
            st.caption(f"The training means at step {picture.step:,}: ELBO {picture.elbo:.1f} nats, KL "
                       f"{picture.kl:.2f} nats (the curves above show the whole run).")
        return at

    def finish(self, at: int) -> None:
        """The replay ends (or is paused) at step `at`: the scrubber comes back there, and the whole page reruns."""
        self.stop()
        st.session_state[self.at] = at
        st.rerun()

    def scrubber(self, steps: list[int]) -> int:
        """The select slider over `steps`: at the latest step, it follows a run that moves on (a Step); elsewhere it
        stays where the student put it."""
        state = st.session_state
        at, last = state.get(self.at), state.get(self.last)
        if not isinstance(at, int) or at == last:
            at = steps[-1]
        elif at not in steps:
            at = max([s for s in steps if s <= at], default=steps[0])
        state[self.at], state[self.last] = at, steps[-1]
        st.select_slider(f"Timeline: {len(steps)} snapshots from step 0 to {steps[-1]:,}", steps, key=self.at,
                         format_func=lambda s: f"step {s:,}",
                         help="Drag to any snapshot, or use the arrow keys; early steps, where the most changes, are "
                              "densest. The axes stay those of the settled run, so only the picture moves.")
        return state[self.at]

    def controls(self, steps: list[int], at: int) -> None:
        """Replay from step 0 (or on from the scrubber's step) at a chosen pace; pause it."""
        state = st.session_state
        row = st.container(horizontal=True, vertical_alignment="center")
        # A radio, not a segmented control: the chosen segment's text had 4.47:1 against its tint (WCAG 1.4.3: 4.5)
        speed = row.radio("Replay speed", list(SPEEDS), index=1, key=self.speed, horizontal=True,
                          help="½×: one snapshot a second; 1×: two; 2×: four")
        if state.get(self.replaying):
            if row.button("Pause the replay", icon=":material/pause:", key=f"{self.replay}_pause"):
                self.finish(at)
            if state.get(f"{self.speed}_paced") != speed:  # a new pace: the fragment takes it with the whole page
                state[f"{self.speed}_paced"] = speed
                st.rerun()
        elif row.button("Replay", icon=":material/replay:", key=self.replay,
                        help="the run's snapshots one after another, from step 0 (or from the scrubber's step)"):
            state[self.playhead] = steps[0] if at == steps[-1] else at
            state[self.replaying] = STARTING
            state[f"{self.speed}_paced"] = speed
            st.rerun()  # the whole page: the fragment takes the replay's pace


TRAIN = Player("train_at", "live_replaying", "live_replay_speed", "live_timeline_last", "live_replay", "live_map",
               "live_playhead")
