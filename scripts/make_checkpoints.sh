#!/usr/bin/env bash
# Rebuild the shipped checkpoints in checkpoints/ (each ≤ 2 MB; the NLL model ≤ 10 MB). The exact command of each is
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

# Fashion-MNIST, from Debian's dataset-fashion-mnist (/usr/share/datasets/fashion-mnist) or $VAE_DATA_DIR/FashionMNIST/raw/.
fashion=(--dataset fashion-mnist --epochs 50 --hidden 240 --seed 0 --eval-iw-samples 100 --save-test-latents --device cpu)
python -m vae train "${fashion[@]}" --latent-dim 2 --sigma-dec 0.3 --out checkpoints/fashion-2d-sigma0.3.safetensors
python -m vae train "${fashion[@]}" --latent-dim 16 --sigma-dec 0.3 --out checkpoints/fashion-16d-sigma0.3.safetensors

# The rate–distortion sweep (10 models of 1.2 MB with their test latents and t-SNE maps, results in sweep.json), about 7 minutes on 2 cores.
python -m vae sweep --data-dir "$VAE_DATA_DIR" --out-dir checkpoints/sweeps/mnist-16d-sigma --prefix mnist-sweep16d \
  --latent-dim 16 --hidden 128 --epochs 20 --sigma-dec 0.05,0.1,0.2,0.3,0.5,0.7,1,1.5,2,3 --eval-iw-samples 100 --save-test-latents \
  --device cpu

# The honest-likelihood model: Bernoulli decoder, dynamic binarisation; about 40 minutes of training on 2 cores,
# then the test NLL with K = 5,000 importance samples (about 15 minutes), stored in the checkpoint.
if [ "${SKIP_NLL:-0}" != 1 ]; then
  python -m vae train --data-dir "$VAE_DATA_DIR" --out checkpoints/mnist-bernoulli-50d.safetensors --likelihood bernoulli \
    --binarize --latent-dim 50 --hidden 512,512 --batch-size 256 --epochs 500 --lr 1e-3 --lr-schedule cosine \
    --warmup-epochs 10 --seed 0 --eval-iw-samples 0 --device cpu
  python -m vae evaluate checkpoints/mnist-bernoulli-50d.safetensors --data-dir "$VAE_DATA_DIR" --iw-samples 5000 \
    --save --save-test-latents --device cpu
fi
ls -l checkpoints/
