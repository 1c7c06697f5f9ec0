"""A class of 30 on one server: the board's refresh, a submission's evaluation, and the server's memory.

Side by side in one run, on SQLite (and on PostgreSQL with --postgres URL):
  * the server's work for one refresh of the board (what its fragment does every few seconds: the board's query,
    the rate–distortion figure, the table), with 0 and with 30 entries;
  * a submission's evaluation (vae.evaluate.scorecard on the 10,000 test images) against one epoch of training
    the same model, for scale;
  * in Chromium, a real server with the teacher's board open: from a submission written to the database to the
    entry on the teacher's screen; and the server's memory (PSS) before the board, with it open, and with five
    students' boards open too.

    VAE_DATA_DIR=../shared/datasets python benchmarks/class_board.py [--postgres URL]
"""
from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.class_scale import pss_mb  # noqa: E402  (the process tree's PSS, every thread's children)

STUDENTS = 30


def fill_class(url: str, figures_of) -> tuple:
    """A class with STUDENTS members, each with one model (a shipped sweep member or the default model) on the
    board; returns (engine, class, the teacher's identity)."""
    from classroom import classes, db, identity, models

    engine = db.engine(url)
    teacher = identity.of_browser(identity.new_key())
    klass, _ = classes.create(engine, teacher, "Benchmark class")
    files = sorted((ROOT / "checkpoints" / "sweeps" / "mnist-16d-sigma").glob("*.safetensors"))
    for n in range(STUDENTS):
        student = identity.of_browser(identity.new_key())
        data = files[n % len(files)].read_bytes()
        model = models.save(engine, student, f"bench-{n}", data, "mnist")
        classes.join(engine, klass, student, f"Student {n}")
        figures, picture = figures_of(data)
        classes.submit(engine, klass, student, model.id, figures, picture)
    return engine, klass, teacher


def refresh_seconds(engine, klass, rounds: int = 20) -> float:
    """Median seconds of the board fragment's server work: query, figure, table."""
    from classroom import classes
    from ui import board, plots
    from ui.sweep_view import sigma_sweep

    reference = sigma_sweep()[1]["points"]
    times = []
    for _ in range(rounds):
        start = time.perf_counter()
        rows = classes.board(engine, klass, with_hidden=True)
        plots.class_board([r for r in rows if not r["hidden"]], reference).to_json()
        board.table(rows, teacher=True)
        classes.members_of(engine, klass)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--postgres", help="also on this PostgreSQL server URL (a database is created and dropped)")
    parser.add_argument("--data-dir", default=os.environ.get("VAE_DATA_DIR"))
    args = parser.parse_args()
    if not args.data_dir:
        parser.error("set VAE_DATA_DIR or --data-dir (MNIST in torchvision's layout)")
    os.environ["VAE_DATA_DIR"] = args.data_dir
    state = Path(tempfile.mkdtemp(prefix="class-bench-"))
    os.environ["VAE_STATE_DIR"] = str(state)

    import torch

    from ui import images, plots
    from vae import checkpoint
    from vae.data import load_dataset
    from vae.evaluate import scorecard
    from vae.train import Trainer

    torch.set_num_threads(2)
    test = load_dataset("mnist", "test").to_float()
    measured = {}

    def figures_of(data: bytes):  # measured once per distinct file: the board's figures are the same
        if data not in measured:
            figures, picture = scorecard(checkpoint.from_bytes(data).model, test)
            measured[data] = (dict(figures, steps=0), images.png_bytes(images.to_uint8(plots.tile(picture.numpy()))))
        return measured[data]

    default = checkpoint.load(ROOT / "checkpoints" / "mnist-2d-sigma0.3.safetensors")
    start = time.perf_counter()
    scorecard(default.model, test)
    evaluation = time.perf_counter() - start
    train = load_dataset("mnist", "train")
    trainer = Trainer(default.config.replace(epochs=1), train.to_float())
    start = time.perf_counter()
    trainer.run_epoch()
    epoch = time.perf_counter() - start
    print(f"a submission's evaluation (scorecard, 10,000 test images, IWAE K=100 on 1,000): {evaluation:.2f} s; "
          f"one training epoch of the same model: {epoch:.2f} s (ratio {evaluation / epoch:.2f})")

    urls = {"sqlite": f"sqlite:///{state / 'bench.sqlite3'}"}
    dropped = []
    if args.postgres:
        import uuid

        import psycopg

        name = f"vae_bench_{uuid.uuid4().hex[:8]}"
        plain = args.postgres.replace("postgresql+psycopg://", "postgresql://")
        with psycopg.connect(plain, autocommit=True) as connection:
            connection.execute(f'CREATE DATABASE "{name}"')
        urls["postgresql"] = args.postgres.rsplit("/", 1)[0] + "/" + name
        dropped.append((plain, name))
    for kind, url in urls.items():
        from classroom import classes, db, identity

        engine = db.engine(url)
        empty, _ = classes.create(engine, identity.of_browser(identity.new_key()), "Empty")
        engine, klass, _ = fill_class(url, figures_of)
        with_none, with_all = refresh_seconds(engine, empty), refresh_seconds(engine, klass)
        print(f"{kind}: one refresh of the board's server work: {1000 * with_none:.1f} ms empty, "
              f"{1000 * with_all:.1f} ms with {STUDENTS} entries (ratio {with_all / with_none:.2f})")
    browser_part(urls["sqlite"], state)
    for plain, name in dropped:
        import psycopg

        from classroom import db

        db.forget(urls["postgresql"])
        with psycopg.connect(plain, autocommit=True) as connection:
            connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def browser_part(url: str, state: Path) -> None:
    """A real server on the benchmark's database: memory, and how soon a new entry shows on the teacher's board."""
    from classroom import classes, db, identity, models
    from tests.support.server import chromium, streamlit_server
    from tests.support.walk import new_session, wait_idle

    engine = db.engine(url)
    key = identity.new_key()
    teacher = identity.of_browser(key)
    klass, teacher_key = classes.create(engine, teacher, "Watched")
    env = {"VAE_DATA_DIR": os.environ["VAE_DATA_DIR"], "VAE_STATE_DIR": str(state), "VAE_DATABASE_URL": url}
    with streamlit_server(env) as (base, server, _), chromium() as browser:
        idle = pss_mb(server.pid)
        with new_session(browser, f"{base}/class?class={klass.code}&key={teacher_key}", timeout=120) as page:
            page.get_by_text("No submissions yet").wait_for()
            wait_idle(page, timeout=60)
            open_board = pss_mb(server.pid)
            student = identity.of_browser(identity.new_key())
            data = (ROOT / "checkpoints" / "mnist-2d-sigma0.3.safetensors").read_bytes()
            model = models.save(engine, student, "watched-model", data, "mnist")
            classes.join(engine, klass, student, "Watcher")
            figures = {"latent_dim": 2, "likelihood": "gaussian", "sigma_dec": 0.3, "beta": 1.0, "steps": 0,
                       "elbo": 40.0, "rate": 7.0, "distortion": 13.0, "log_px_iwae": 46.0, "iwae_images": 1000,
                       "active_units": 2}
            from ui import images
            import numpy as np

            start = time.perf_counter()
            classes.submit(engine, klass, student, model.id, figures, images.png_bytes(np.zeros((28, 28), np.uint8)))
            page.get_by_text("1 entry").wait_for(timeout=30_000)
            shown = time.perf_counter() - start
            tabs = []
            for _ in range(5):
                tab = browser.new_page()
                tab.goto(f"{base}/class?class={klass.code}")
                tabs.append(tab)
            for tab in tabs:
                tab.get_by_role("heading", name="Class").wait_for(timeout=60_000)
            time.sleep(5)
            six = pss_mb(server.pid)
            for tab in tabs:
                tab.close()
    print(f"server: a new entry on the open board after {shown:.1f} s (it refreshes every 4 s); server memory (PSS) "
          f"{idle:.0f} MB idle, {open_board:.0f} MB with the teacher's board open, {six:.0f} MB with five more tabs")


if __name__ == "__main__":
    main()
