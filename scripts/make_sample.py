"""Rebuild a shipped sample in vae/assets/: the first N images of a dataset's official test split.

    python scripts/make_sample.py --data-dir ../shared/datasets                     # MNIST, 2,000 digits
    python scripts/make_sample.py --dataset fashion-mnist --data-dir /usr/share/datasets/fashion-mnist
"""
import argparse
from pathlib import Path

import numpy as np

from vae.data import ASSETS, DATASETS, read_split_from

parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
parser.add_argument("--data-dir", required=True, type=Path)
parser.add_argument("--dataset", default="mnist", choices=list(DATASETS))
parser.add_argument("--count", type=int, default=2000)
args = parser.parse_args()
test = read_split_from(args.data_dir, args.dataset, "test")
out = ASSETS / DATASETS[args.dataset].sample_file
np.savez_compressed(out, images=test.images[: args.count].numpy(), labels=test.labels[: args.count].numpy().astype(np.uint8))
print(f"wrote {out} ({out.stat().st_size:,} bytes)")
