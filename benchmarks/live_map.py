"""What Train live's decoder's map costs one student: the bytes the browser receives, the server's CPU, the memory.

Train live redraws the latent cloud (1,000 test digits' means, a vega-lite chart), the decoder's map (a 15×15 grid
decoded in the training process, vae.timeline.take, sent as a PNG inside a plotly figure) and 8 reconstructions
every REFRESH_LATENTS (2 s) while it plays. One student, headless Chromium, a 2-D model of hidden width 256 made
with the page's defaults on --digits training images, plays for --seconds; measured, side by side in one run:

(a) the bytes per second the browser receives over Streamlit's websocket (Playwright's framereceived payloads; the
    server sends them uncompressed: server.enableWebsocketCompression is off), split by what each message carries:
    the map (its figure, and the PNG data URI in it), the cloud, the curves, the reconstructions and the rest (the
    numbers, controls; with LIVE_MAP_DUMP=FILE each message's kind, size and first bytes are written there). Beside them, the alternative of decoding the map in the browser: the decoder's weights and
    biases as base64 float32 (what ui/latent_pad's payload() sends), once per update, every REFRESH_LATENTS;
    and a map PNG computed here from a model trained in this process (vae.timeline's png(decoder_map(...))).
(b) the CPU per student: cores used (CPU seconds per wall second) during Play by the Streamlit server, the
    training process (the fork of the server's zygote that runs this run), the zygote, and the rest (Chromium,
    Playwright, this script), and the same while paused; and what one update costs the training process (its
    snapshot(probe=True): the picture with the map, and the reconstructions), timed here on the same model.
(c) memory per live session: the training process's USS (its private pages) and PSS (shared pages split) after
    --seconds of Play, and the server's RSS growth over the session (from the Train page opened, before Create
    model, to the end of Play), on a server warmed by one earlier short session (--no-warm-session: a cold one).
Targets: the map's bytes well under the weights' (the page's choice of a PNG over streamed weights); at most
150 MB per live session (training USS + the server's growth). Nothing is asserted: the figures are printed.

    VAE_DATA_DIR=../shared/datasets python benchmarks/live_map.py [--digits 2,000] [--seconds 30]
"""
from __future__ import annotations

import argparse
import base64
import os
import re
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from playwright.sync_api import expect

from benchmarks.concurrent_sessions import cpu_seconds  # noqa: E402  (CPU time by pid, from /proc)
from tests.support.server import chromium, streamlit_server
from tests.support.walk import step_count, wait_idle, watch
from vae.live import training_processes

SIZES = {"2,000": 2_000, "10,000": 10_000, "all 60,000": None}  # the Train page's choices
# plotly's JSON writes each / as \u002f (6 bytes), in the base64 too
URI = re.compile(rb"data:image(?:/|\\u002f)[a-z+]+;base64,(?:[A-Za-z0-9+=/]|\\u002f)*")
MAP_SOURCE = re.compile(rb'"source":\s*"$')  # a plotly layout image: the decoder's map (ui/plots.manifold_picture)


# ------------------------------------------------------------------------------------------------ /proc
def parent(pid: int) -> int:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
        return int(stat[stat.rindex(")") + 2:].split()[1])
    except (OSError, ValueError):
        return 0


def rollup(pid: int) -> dict[str, float]:
    """/proc/PID/smaps_rollup in MB: Rss, Pss, and Uss (Private_Clean + Private_Dirty: what ending it frees)."""
    fields = {}
    try:
        for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines()[1:]:
            key, _, value = line.partition(":")
            fields[key] = int(value.split()[0]) / 1024
    except (OSError, ValueError, IndexError):
        return {"Rss": 0.0, "Pss": 0.0, "Uss": 0.0}
    return {"Rss": fields.get("Rss", 0.0), "Pss": fields.get("Pss", 0.0),
            "Uss": fields.get("Private_Clean", 0.0) + fields.get("Private_Dirty", 0.0)}


def command(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/comm").read_text().strip()
    except OSError:
        return ""


def cores_used(before: dict, after: dict, parts: dict[str, set[int]], seconds: float) -> dict[str, float]:
    """Cores used over `seconds` by each named set of pids, by Chromium's processes, by this script and
    Playwright's driver, and by everything else on the machine."""
    used = {name: 0.0 for name in [*parts, "chromium", "script", "other"]}
    for pid, t in after.items():
        name = next((n for n, pids in parts.items() if pid in pids), None)
        if name is None:
            comm = command(pid)
            name = ("chromium" if comm.startswith("chrom") else
                    "script" if pid == os.getpid() or parent(pid) == os.getpid() else "other")
        used[name] += t - before.get(pid, 0.0)
    return {name: v / seconds for name, v in used.items()}


# ------------------------------------------------------------------------------------------------ websocket
class Frames:
    """Every websocket message the page receives: (time, kind, bytes, the bytes of the map's PNG data URI in it as
    sent, and of the PNG itself)."""

    def __init__(self, page):
        self.log: list[tuple[float, str, int, int, int]] = []
        self.dump: list[str] | None = [] if os.environ.get("LIVE_MAP_DUMP") else None
        page.on("websocket", lambda ws: ws.on("framereceived", self.received))

    def received(self, payload):
        data = payload if isinstance(payload, bytes) else payload.encode()
        uris = [m.group() for m in URI.finditer(data) if MAP_SOURCE.search(data[max(0, m.start() - 16):m.start()])]
        map_uri = sum(len(u) for u in uris)
        map_png = sum(len(base64.b64decode(u.partition(b",")[2].replace(b"\\u002f", b"/"))) for u in uris)
        kind = ("map" if map_uri else "cloud" if b"Scatter plot of the latent means" in data
                else "curves" if b"Line chart:" in data or b"Bar chart:" in data
                else "reconstructions" if URI.search(data) else "rest")
        self.log.append((time.perf_counter(), kind, len(data), map_uri, map_png))
        if self.dump is not None:
            self.dump.append(f"{time.perf_counter():.2f} {kind} {len(data)} {map_uri} "
                             f"{re.sub(rb'[^ -~]', b'.', data[:300]).decode()}\n")

    def window(self, t0: float, t1: float) -> dict:
        inside = [f for f in self.log if t0 <= f[0] < t1]
        out = {"total": sum(f[2] for f in inside), "messages": len(inside), "map_uri": sum(f[3] for f in inside),
               "map_uris": [f[3] for f in inside if f[3]], "map_png": sum(f[4] for f in inside)}
        for kind in ("map", "cloud", "curves", "reconstructions", "rest"):
            out[kind] = sum(f[2] for f in inside if f[1] == kind)
            out[kind + "_n"] = sum(1 for f in inside if f[1] == kind)
        return out


# ------------------------------------------------------------------------------------------------ the page
def open_train(browser, url: str, digits: str):
    context = browser.new_context(viewport={"width": 1500, "height": 1100})
    page = context.new_page()
    page.set_default_timeout(120_000)
    watch(page)
    frames = Frames(page)
    page.goto(url + "/train")
    wait_idle(page, since=0, start_timeout=10, timeout=120)
    page.get_by_role("button", name="Create model").wait_for()
    return context, page, frames


def create(page, digits: str) -> None:
    page.get_by_text(digits, exact=True).click()
    wait_idle(page, timeout=60)
    page.get_by_role("button", name="Create model").click()  # the defaults: 2-D, hidden 256, σ 0.3
    page.get_by_role("radio", name="Play", exact=True).wait_for()
    wait_idle(page, timeout=120)


def play(page) -> None:
    page.get_by_role("radio", name="Play", exact=True).click()
    expect(page.get_by_role("button", name="Step", exact=True)).to_be_disabled(timeout=60_000)


def pause(page) -> None:
    page.get_by_role("radio", name="Pause", exact=True).click()
    expect(page.get_by_role("button", name="Step", exact=True)).to_be_enabled(timeout=60_000)


def measured(page, seconds: float, server: int, child: int, zygote: int) -> tuple[float, float, dict]:
    """Waits `seconds` (Playwright's wait: its events, the frames, keep arriving); (t0, t1, cores used)."""
    cpu0, t0 = cpu_seconds(), time.perf_counter()
    page.wait_for_timeout(seconds * 1000)
    cpu1, t1 = cpu_seconds(), time.perf_counter()
    return t0, t1, cores_used(cpu0, cpu1, {"server": {server}, "training": {child}, "zygote": {zygote}}, t1 - t0)


# ------------------------------------------------------------------------------------------------ in this process
def direct(data_dir: str, limit: int | None, steps: int) -> dict:
    """The same run in this process (vae.live.child.ChildSession): the decoder's weights as the browser would get
    them, the map's PNG at step 0 and after `steps` steps, and the time of one update's snapshot."""
    import torch

    from vae.config import VAEConfig
    from vae.data import load_dataset
    from vae.live.child import ChildSession

    train = load_dataset("mnist", "train", data_dir, download=False, fallback=False).subset(limit)
    test = load_dataset("mnist", "test", data_dir, download=False, fallback=False)
    config = VAEConfig(latent_dim=2, hidden=(256,), sigma_dec=0.3, batch_size=128, lr=1e-3, seed=0)
    session = ChildSession(config.to_dict(), train, test, "cpu", limit)
    decoder = session.trainer.model.decoder
    params = sum(p.numel() for p in decoder.parameters())
    weights = sum(len(base64.b64encode(p.detach().numpy().astype("<f4").tobytes())) for p in decoder.parameters())
    untrained = len(session.timeline.snapshots[0].map_png)
    session.trainer.run(steps)
    pictures = [session.picture() for _ in range(3)]
    timings = []
    for _ in range(7):
        start = time.perf_counter()
        session.snapshot(probe=True)
        timings.append(time.perf_counter() - start)
    start = time.perf_counter()
    for _ in range(5):
        session.picture()
    picture_s = (time.perf_counter() - start) / 5
    return {"params": params, "weights_b64": weights, "png_untrained": untrained, "steps": session.trainer.step,
            "png_trained": len(pictures[-1].map_png), "snapshot_s": statistics.median(timings), "picture_s": picture_s,
            "threads": torch.get_num_threads()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", default=os.environ.get("VAE_DATA_DIR"))
    parser.add_argument("--digits", default="2,000", choices=list(SIZES), help="the Train page's training images")
    parser.add_argument("--seconds", type=float, default=30.0, help="the measured window of Play")
    parser.add_argument("--warmup", type=float, default=4.0, help="seconds of Play before the window starts")
    parser.add_argument("--paused-seconds", type=float, default=10.0, help="a window paused, after Play, for comparison")
    parser.add_argument("--direct-steps", type=int, default=3000,
                        help="steps of the in-process run whose map PNG and update time are measured")
    parser.add_argument("--no-warm-session", action="store_true",
                        help="measure the server's first session (its RSS growth then includes one-time imports)")
    args = parser.parse_args()
    if not args.data_dir:
        sys.exit("set VAE_DATA_DIR or pass --data-dir (a folder holding MNIST/raw/)")
    from ui.live_runs import REFRESH_LATENTS

    here = direct(args.data_dir, SIZES[args.digits], args.direct_steps)
    env = {"VAE_DATA_DIR": args.data_dir, "VAE_STATE_DIR": tempfile.mkdtemp(prefix="vae-state-")}
    with streamlit_server(env) as (url, proc, _), chromium() as browser:
        server = proc.pid
        cold_rss = rollup(server)["Rss"]
        warm = None
        if not args.no_warm_session:  # one short session first: the server's one-time imports and caches
            context, page, _ = open_train(browser, url, args.digits)
            create(page, args.digits)
            play(page)
            page.wait_for_timeout(6000)
            pause(page)
            warm = rollup(server)["Rss"] - cold_rss
            context.close()
            page = None
            time.sleep(2)
        earlier = set(training_processes(server))
        context, page, frames = open_train(browser, url, args.digits)
        rss_before = rollup(server)["Rss"]
        create(page, args.digits)
        mine = [p for p in training_processes(server) if p not in earlier]
        if len(mine) != 1:
            sys.exit(f"expected one new training process, found {mine}")
        child = mine[0]
        zygote = parent(child)
        play(page)
        page.wait_for_timeout(args.warmup * 1000)
        steps0 = step_count(page)
        t0, t1, playing = measured(page, args.seconds, server, child, zygote)
        steps1 = step_count(page)
        memory, zygote_memory, rss_after = rollup(child), rollup(zygote), rollup(server)["Rss"]
        pause(page)
        page.wait_for_timeout(2500)  # the last slice of Play lands before the paused window
        p0, p1, paused = measured(page, args.paused_seconds, server, child, zygote)
        context.close()
    wire, still = frames.window(t0, t1), frames.window(p0, p1)
    if frames.dump is not None:
        Path(os.environ["LIVE_MAP_DUMP"]).write_text(f"play {t0:.2f}-{t1:.2f}, paused {p0:.2f}-{p1:.2f}\n"
                                                     + "".join(frames.dump))

    seconds = t1 - t0
    updates = max(wire["map_n"], 1)
    map_per_update = wire["map"] / updates
    uri_per_update = wire["map_uri"] / updates
    weights_rate = here["weights_b64"] / REFRESH_LATENTS
    kb = 1000
    print(f"One student, Chromium on {os.cpu_count()} cores, a 2-D VAE of hidden width 256 on {args.digits} digits; "
          f"{seconds:.1f} s of Play measured after {args.warmup:.0f} s; the page shows {steps0:,} → {steps1:,} steps "
          f"({(steps1 - steps0) / seconds:.0f} steps/s, the page's count: up to 2 s stale)")
    print("(a) bytes the browser receives over the websocket while playing:")
    print(f"  total {wire['total'] / seconds / kb:7.1f} kB/s ({wire['messages']} messages, {wire['total'] / kb:,.0f} kB "
          f"in {seconds:.0f} s); paused: {still['total'] / (p1 - p0) / kb:.2f} kB/s")
    for kind, what in (("map", "the decoder's map (its plotly figure)"), ("cloud", "the latent cloud (vega-lite)"),
                       ("curves", "the curves and KL bars (vega-lite)"), ("reconstructions", "the reconstructions"),
                       ("rest", "the rest (numbers, controls, …)")):
        print(f"  {what:38s} {wire[kind] / seconds / kb:7.1f} kB/s  {wire[kind] / max(wire['total'], 1):5.1%}  "
              f"({wire[kind + '_n']} messages, {wire[kind] / max(wire[kind + '_n'], 1) / kb:.1f} kB each)")
    uris = wire["map_uris"] or [0]
    print(f"  the map's PNG data URIs as sent: {wire['map_uri'] / seconds / kb:.1f} kB/s, {uri_per_update / kb:.1f} kB per "
          f"update (from {min(uris) / kb:.1f} to {max(uris) / kb:.1f} kB; {len(wire['map_uris'])} updates in "
          f"{seconds:.0f} s: one every {seconds / updates:.1f} s); the PNGs in them {wire['map_png'] / updates / kb:.1f} "
          f"kB each")
    print(f"  computed here: the map's PNG {here['png_untrained'] / kb:.1f} kB untrained, "
          f"{here['png_trained'] / kb:.1f} kB after {here['steps']:,} steps "
          f"(as a data URI: {4 * -(-here['png_trained'] // 3) / kb:.1f} kB)")
    print(f"  decoding in the browser instead: the decoder's {here['params']:,} weights and biases as base64 float32 "
          f"= {here['weights_b64'] / kb:,.0f} kB per update, every {REFRESH_LATENTS:g} s = {weights_rate / kb:.0f} kB/s; "
          f"{here['weights_b64'] / max(uri_per_update, 1):.1f}x the map's PNG URI, "
          f"{here['weights_b64'] / max(map_per_update, 1):.1f}x its whole figure")
    alternative = wire["total"] / seconds - wire["map"] / seconds + weights_rate
    print(f"  total with the weights instead of the map's figure: {alternative / kb:.0f} kB/s, "
          f"{alternative / max(wire['total'] / seconds, 1):.1f}x the page's {wire['total'] / seconds / kb:.1f} kB/s")
    before = (wire["total"] - wire["map"] - (wire["cloud"] + wire["reconstructions"]) * (1 - REFRESH_LATENTS / 6.0)) / seconds
    print(f"  estimated from these, as before the map (no map; the cloud and reconstructions every 6 s, the rest as "
          f"now): {before / kb:.0f} kB/s; the map and the faster refresh multiply the bytes by "
          f"{wire['total'] / seconds / max(before, 1):.1f}")
    print("(b) cores used (CPU s per wall s):")
    for name, what in (("server", "the Streamlit server"), ("training", "the training process"),
                       ("zygote", "the zygote"), ("chromium", "Chromium (on a student's own machine in class)"),
                       ("script", "this script and Playwright's driver"), ("other", "everything else")):
        print(f"  {what:45s} playing {playing[name]:.3f}, paused {paused[name]:.3f}")
    update = here["snapshot_s"]
    print(f"  one update in the training process (snapshot(probe=True): the cloud's means, the map, the "
          f"reconstructions), timed here with {here['threads']} threads: {update * 1000:.0f} ms, of which the picture "
          f"(means + map + PNG) {here['picture_s'] * 1000:.0f} ms; every {REFRESH_LATENTS:g} s = "
          f"{update / REFRESH_LATENTS:.1%} of the training's time")
    per_session = memory["Uss"] + (rss_after - rss_before)
    print(f"(c) memory after {seconds:.0f} s of Play:")
    print(f"  the training process: USS {memory['Uss']:.0f} MB, PSS {memory['Pss']:.0f} MB, RSS {memory['Rss']:.0f} MB; "
          f"its zygote (shared by every run): PSS {zygote_memory['Pss']:.0f} MB, RSS {zygote_memory['Rss']:.0f} MB")
    print(f"  the server's RSS: {rss_before:.0f} MB with the Train page open → {rss_after:.0f} MB after Play: "
          f"{rss_after - rss_before:+.0f} MB for the session"
          + ("" if warm is None else f" (a server started at {cold_rss:.0f} MB; the first, short session added "
                                     f"{warm:+.0f} MB)"))
    print(f"  per live session: training USS + the server's growth = {per_session:.0f} MB (target: <= 150 MB)")


if __name__ == "__main__":
    main()
