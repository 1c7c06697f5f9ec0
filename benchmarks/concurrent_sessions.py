"""A class opens the app at once: N headless Chromium sessions against one `streamlit run`.

Each session creates a model on the Train page (its own seed), trains live for --train-seconds,
pauses, then explores (the Explore page, a click on a test digit), and closes; --waves classes one
after another. Printed per wave: whether every session finished, steps/s per session, how long the
page takes to answer Play and Pause, the cores used meanwhile by the training processes, the server
and the rest (here: the browsers, which in a real class run on the students' machines), memory after
the tabs closed, and the training processes left (there must be none). Then the server's RSS and its
process tree's (RSS summed, and PSS, which counts the pages the processes share once) at start and
peak, and the server's threads.

    VAE_DATA_DIR=../shared/datasets python benchmarks/concurrent_sessions.py --sessions 8 --train-seconds 30
    VAE_DATA_DIR=../shared/datasets python benchmarks/concurrent_sessions.py --sessions 24 --waves 1  # a class
"""
from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from playwright.sync_api import expect  # noqa: E402

from tests.support.server import chromium, streamlit_server  # noqa: E402
from tests.support.walk import SCATTER, click_point  # noqa: E402
from vae.live import training_processes  # noqa: E402


def _status(pid: int) -> dict:
    fields = {}
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            key, _, value = line.partition(":")
            fields[key] = value.strip()
    except OSError:
        pass
    return fields


def descendants(pid: int) -> list[int]:
    """Every process below `pid` (from /proc's parent links)."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            ppid = _status(int(entry.name)).get("PPid")
            if ppid:
                children.setdefault(int(ppid), []).append(int(entry.name))
    found, stack = [], [pid]
    while stack:
        for child in children.get(stack.pop(), []):
            found.append(child)
            stack.append(child)
    return found


def cpu_seconds() -> dict[int, float]:
    """CPU time (user + system) of every process on the machine, by pid."""
    tick, out = os.sysconf("SC_CLK_TCK"), {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            fields = stat[stat.rindex(")") + 2:].split()
            out[int(entry.name)] = (int(fields[11]) + int(fields[12])) / tick
    return out


def cpu_shares(before: dict, after: dict, server: int, training: set[int], seconds: float) -> dict[str, float]:
    """Cores used over `seconds` by the training processes, the server, and everything else (the browsers)."""
    used = {"training": 0.0, "server": 0.0, "other": 0.0}
    for pid, t in after.items():
        part = "server" if pid == server else "training" if pid in training else "other"
        used[part] += t - before.get(pid, 0.0)
    return {k: v / seconds for k, v in used.items()}


def rss_mb(pid: int) -> float:
    value = _status(pid).get("VmRSS", "0 kB").split()[0]
    return int(value) / 1024


class Sampler(threading.Thread):
    """Samples the server's RSS and its whole tree's (RSS summed, and PSS) every 0.5 s; keeps the peaks."""

    def __init__(self, pid: int):
        super().__init__(daemon=True)
        self.pid, self.stop_flag = pid, threading.Event()
        self.peak_server = self.peak_tree = self.peak_pss = 0.0

    def tree(self) -> float:
        return rss_mb(self.pid) + sum(rss_mb(p) for p in descendants(self.pid))

    def tree_pss(self) -> float:
        return pss_mb(self.pid) + sum(pss_mb(p) for p in descendants(self.pid))

    def run(self):
        while not self.stop_flag.is_set():
            self.peak_server = max(self.peak_server, rss_mb(self.pid))
            self.peak_tree = max(self.peak_tree, self.tree())
            self.peak_pss = max(self.peak_pss, self.tree_pss())
            time.sleep(0.5)


def fresh_metric(page, label: str) -> str:
    """The value of the metric called `label`, once the script run in progress has redrawn it (not stale)."""
    card = page.get_by_test_id("stMetric").filter(has=page.get_by_test_id("stMetricLabel").get_by_text(label, exact=True))
    fresh = page.locator('[data-testid="stElementContainer"]:not([data-stale="true"])').filter(has=card)
    return fresh.first.get_by_test_id("stMetricValue").inner_text()


def pss_mb(pid: int) -> float:
    """Proportional set size: shared pages (torch's libraries) counted once across the processes sharing them."""
    try:
        for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
            if line.startswith("Pss:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sessions", type=int, default=8)
    parser.add_argument("--train-seconds", type=float, default=30.0)
    parser.add_argument("--digits", default="10,000", choices=["2,000", "10,000", "all 60,000"])
    parser.add_argument("--waves", type=int, default=2, help="classes one after another (memory must not creep)")
    parser.add_argument("--close-timeout", type=float, default=240.0,
                        help="how long to wait for the training processes to end after the tabs close")
    args = parser.parse_args()
    if not os.environ.get("VAE_DATA_DIR"):
        print("set VAE_DATA_DIR to the folder holding MNIST/raw/", file=sys.stderr)
        return 2
    env = {"VAE_STATE_DIR": tempfile.mkdtemp(prefix="vae-bench-state-")}
    with streamlit_server(env) as (url, proc, _), chromium() as browser:
        pid = proc.pid
        warm = browser.new_page()
        warm.goto(f"{url}/explore")  # the app opens on Learn, which has no scatter
        warm.wait_for_selector(SCATTER, timeout=120_000)
        warm.close()
        base_server, base_threads = rss_mb(pid), int(_status(pid)["Threads"])
        sampler = Sampler(pid)
        base_tree = sampler.tree()
        sampler.start()
        waves = []
        try:
            for wave in range(args.waves):
                waves.append(run_wave(browser, url, pid, args, sampler))
        finally:  # the server's log, kept for a look when something went wrong
            log = proc.log_path.read_text(errors="replace")
            Path("/tmp/concurrent-sessions-server.log").write_text(log)
        sampler.stop_flag.set()
        sampler.join()
        after_threads = int(_status(pid)["Threads"])

    for i, w in enumerate(waves, 1):
        rates = w["rates"]
        print(f"wave {i}: sessions finished {w['finished']}/{args.sessions} (each trained {args.train_seconds:.0f} s "
              f"on {args.digits} digits, then explored)")
        for i, why in w["broken"].items():
            print(f"  session {i}: {why}")
        print("  steps/s per session: " + ", ".join(f"{r:.0f}" for r in rates)
              + (f"  (median {statistics.median(rates):.0f}, sum {sum(rates):.0f})" if rates else ""))
        print(f"  the page answers Play in {_spread(w['play_response'])}, Pause in {_spread(w['pause_response'])} "
              "(click → the buttons swap)")
        print(f"  cores in use while training (of {os.cpu_count()}): training processes {w['cores']['training']:.2f}, "
              f"server {w['cores']['server']:.2f}, the rest (the browsers) {w['cores']['other']:.2f}")
        t = w["training_pss"]
        print(f"  PSS while training: server and children {t['tree']:.0f} MB (before the wave {w['base_pss']:.0f} MB): "
              f"{(t['tree'] - w['base_pss']) / args.sessions:.0f} MB per added session; the {t['count']} training "
              f"processes {t['forks']:.0f} MB ({t['forks'] / max(t['count'], 1):.0f} MB each) and their zygote "
              f"{t['zygote']:.0f} MB")
        print(f"  training processes while open: {w['live']}; left {w['ended_after']:.0f} s after the tabs closed: "
              f"{w['left']}")
        print(f"  after close: server RSS {w['server']:.0f} MB; server + children RSS {w['tree']:.0f} MB, "
              f"PSS {w['pss']:.0f} MB")
    print(f"server RSS: start {base_server:.0f} MB, peak {sampler.peak_server:.0f} MB")
    print(f"server + children: RSS summed: start {base_tree:.0f} MB, peak {sampler.peak_tree:.0f} MB; "
          f"PSS (shared pages once): peak {sampler.peak_pss:.0f} MB")
    print(f"server threads: start {base_threads}, after the last wave closed {after_threads}")
    print(f"server log: {len(log.splitlines())} lines (/tmp/concurrent-sessions-server.log)")
    last = waves[-1]
    ok = (all(w["finished"] == args.sessions and w["left"] == 0 for w in waves)
          and last["tree"] < base_tree + 0.25 * (sampler.peak_tree - base_tree) + 200
          and (len(waves) < 2 or last["tree"] < waves[0]["tree"] + 100))
    print("OK" if ok else "NOT OK: a session did not finish, a training process was left, or memory stayed up")
    return 0 if ok else 1


def _spread(seconds: list[float]) -> str:
    if not seconds:
        return "–"
    return f"{statistics.median(seconds):.1f} s median, {max(seconds):.1f} s at most"


def report(page, i: int, what: str) -> str:
    """A session that went wrong: a screenshot and what its page says (toasts included), for the summary."""
    page.screenshot(path=f"/tmp/concurrent-session-{i}.png", full_page=True)
    text = " ".join(page.locator("body").inner_text().split())
    return f"{what}; the page says: {text[:600]!r} (/tmp/concurrent-session-{i}.png)"


def run_wave(browser, url, pid, args, sampler) -> dict:
    """One class: N sessions train, pause, explore, close; then wait for their training processes to end."""
    contexts, pages = [], []
    base_pss = sampler.tree_pss()
    for i in range(args.sessions):
        context = browser.new_context(viewport={"width": 1400, "height": 1000})
        page = context.new_page()
        page.set_default_timeout(180_000)
        page.goto(f"{url}/train?train_seed={i}")
        page.get_by_role("button", name="Create model").wait_for()
        page.get_by_text(args.digits, exact=True).click()
        page.get_by_role("button", name="Create model").click()
        contexts.append(context)
        pages.append(page)
    started = []
    for i, page in enumerate(pages):
        try:
            page.get_by_role("radio", name="Play", exact=True).wait_for()
        except Exception:
            page.screenshot(path=f"/tmp/concurrent-session-{i}.png", full_page=True)
            print(f"session {i} shows no Play control: {page.locator('main').inner_text()[:500]!r}", file=sys.stderr)
            raise
    for page in pages:
        page.get_by_role("radio", name="Play", exact=True).click()
        started.append(time.perf_counter())
    play_response, broken = [], {}  # click → the page shows it playing (Step disabled: the server ran with it playing)
    for i, (page, t0) in enumerate(zip(pages, started)):
        try:
            expect(page.get_by_role("button", name="Step", exact=True)).to_be_disabled(timeout=180_000)
            play_response.append(time.perf_counter() - t0)
        except Exception:
            broken[i] = report(page, i, "180 s after Play, the page still shows it paused")
    cpu_before, window = cpu_seconds(), time.perf_counter()
    time.sleep(args.train_seconds)
    training = set(training_processes(pid))
    cores = cpu_shares(cpu_before, cpu_seconds(), pid, training, time.perf_counter() - window)
    zygotes = {int(_status(p).get("PPid", 0)) for p in training}
    training_pss = {"tree": sampler.tree_pss(), "forks": sum(pss_mb(p) for p in training),
                    "zygote": sum(pss_mb(p) for p in zygotes), "count": len(training)}
    rates, pause_response, finished = [], [], 0
    for i, (page, t0) in enumerate(zip(pages, started)):
        if i in broken:
            continue
        page.get_by_role("radio", name="Pause", exact=True).click()
        clicked = time.perf_counter()
        try:
            expect(page.get_by_role("button", name="Step", exact=True)).to_be_enabled(timeout=180_000)
            pause_response.append(time.perf_counter() - clicked)
            rates.append(int(fresh_metric(page, "Step").replace(",", "")) / (clicked - t0))
        except Exception:
            broken[i] = report(page, i, "180 s after Pause, the page still shows it playing")
    for i, page in enumerate(pages):  # explore in the same session: the sidebar's navigation, then a click on a digit
        if i in broken:
            continue
        page.get_by_test_id("stSidebarNav").get_by_text("Explore the latent space").click()
        page.wait_for_selector(SCATTER)
        page.get_by_text("Click a dot in the scatter.").wait_for()
        page.wait_for_timeout(500)
        click_point(page, curve=1, index=37)
        page.get_by_text("test #37:").wait_for()
        finished += 1
    live = len(training_processes(pid))
    for context in contexts:
        context.close()
    closed = time.perf_counter()
    while training_processes(pid) and time.perf_counter() - closed < args.close_timeout:
        time.sleep(1)
    ended_after = time.perf_counter() - closed
    left = training_processes(pid)
    time.sleep(2)
    return {"finished": finished, "broken": broken, "rates": rates, "cores": cores, "play_response": play_response, "base_pss": base_pss,
            "training_pss": training_pss,
            "pause_response": pause_response, "pss": sampler.tree_pss(), "live": live, "ended_after": ended_after, "left": len(left),
            "server": rss_mb(pid), "tree": sampler.tree()}


if __name__ == "__main__":
    sys.exit(main())
