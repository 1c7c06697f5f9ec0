#!/usr/bin/env bash
# Rebuild the shipped checkpoints in checkpoints/ (each ≤ 2 MB). The exact command of each is
# also recorded inside the file: `python -m vae info checkpoints/NAME.safetensors`.
#   VAE_DATA_DIR=../shared/datasets bash scripts/make_checkpoints.sh
set -euo pipefail
cd "$(dirname "$0")/.."
: "${VAE_DATA_DIR:?set VAE_DATA_DIR to the folder holding MNIST/raw/}"
common=(--data-dir "$VAE_DATA_DIR" --dataset mnist --epochs 50 --hidden 240 --seed 0 --eval-iw-samples 100
        --save-test-latents --device cpu)
for sigma in 0.1 0.3 1.0; do
  python -m vae train "${common[@]}" --latent-dim 2 --sigma-dec "$sigma" --out "checkpoints/mnist-2d-sigma$sigma.safetensors"
done
python -m vae train "${common[@]}" --latent-dim 16 --sigma-dec 0.3 --out checkpoints/mnist-16d-sigma0.3.safetensors
ls -l checkpoints/
