"""Rebuild vae/assets/mnist-test-sample.npz: the first 2,000 digits of the official MNIST test split.

    python scripts/make_sample.py --data-dir ../shared/datasets
"""
import argparse
from pathlib import Path

import numpy as np

from vae.data import ASSETS, read_split_from

parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
parser.add_argument("--data-dir", required=True, type=Path)
parser.add_argument("--count", type=int, default=2000)
args = parser.parse_args()
test = read_split_from(args.data_dir, "mnist", "test")
out = ASSETS / "mnist-test-sample.npz"
np.savez_compressed(out, images=test.images[: args.count].numpy(), labels=test.labels[: args.count].numpy().astype(np.uint8))
print(f"wrote {out} ({out.stat().st_size:,} bytes)")
