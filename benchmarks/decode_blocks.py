"""The grid posterior and IWAE, decoded in cache-sized blocks vs in one large block, side by side in one run.

(a) `vae.posterior.log_joints` on a 401×401 grid (mnist-2d-sigma0.3, test digit 0) with `chunk` = 8192 (before) and
    512 (now); (b) `vae.objective.iwae_log_px` with K = 100 on 500 test digits (a batch of `vae.evaluate`) with
    `rows` large enough to decode each sample chunk whole (before) and 2048 (now); (c) the posterior page's gap
    curve (test digit 0 at its seven σ_dec) one σ_dec at a time (before) and with `posterior_gaps`, which decodes
    the grids that do not depend on σ_dec once for all of them (now). Rounds alternate the two, so the
    machine's drift falls on both. Prints each median, the ratio, and whether the two results are equal bit for bit.

    VAE_DATA_DIR=../shared/datasets python benchmarks/decode_blocks.py [--rounds 3]
"""
from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from vae import checkpoint  # noqa: E402
from vae.data import load_dataset  # noqa: E402
from vae.objective import iwae_log_px  # noqa: E402
from vae.posterior import latent_grid, log_joints, posterior_gaps  # noqa: E402


def timed(fn):
    start = time.perf_counter()
    out = fn()
    return time.perf_counter() - start, out


def compare(label: str, before, after, rounds: int) -> None:
    times = {"before": [], "now": []}
    results = {}
    for _ in range(rounds):
        for name, fn in (("before", before), ("now", after)):
            seconds, results[name] = timed(fn)
            times[name].append(seconds)
    b, a = statistics.median(times["before"]), statistics.median(times["now"])
    same = torch.equal(results["before"], results["now"])
    print(f"{label}: before {b:.3f} s, now {a:.3f} s: {b / a:.2f}x faster; results equal bit for bit: {same}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    model = checkpoint.load(ROOT / "checkpoints" / "mnist-2d-sigma0.3.safetensors").model.eval()
    images = load_dataset("mnist", "test").to_float()
    _, _, z = latent_grid((-3.0, 3.0), (-3.0, 3.0), 401)
    compare("log_joints, 401x401 grid", lambda: log_joints(model, images[0], z, [0.3], chunk=8192)[0],
            lambda: log_joints(model, images[0], z, [0.3], chunk=512)[0], args.rounds)
    batch = images[:500]

    def iwae(rows):
        with torch.no_grad():
            return iwae_log_px(model, batch, 100, generator=torch.Generator().manual_seed(0), rows=rows)

    compare("iwae_log_px, K = 100, 500 digits", lambda: iwae(100 * 500), lambda: iwae(2048), args.rounds)
    sigmas = [0.05, 0.1, 0.2, 0.3, 0.5, 1.0, 2.0]  # pages/posterior.py's GAP_SIGMAS (the model's own 0.3 among them)
    compare("the gap curve, 7 sigma_dec",
            lambda: torch.tensor([posterior_gaps(model, images[0], [s])[0] for s in sigmas]),
            lambda: torch.tensor(posterior_gaps(model, images[0], sigmas)), args.rounds)


if __name__ == "__main__":
    main()
