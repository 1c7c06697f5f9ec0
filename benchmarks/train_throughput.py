"""Seconds per training epoch: the pytorch/examples VAE loop as its users run it vs this project's Trainer.

Both train the same 784-400-20 MLP VAE with the same loss (BCE on grey-level pixels + analytic KL),
Adam at lr 1e-3 and batch 128, on the same 60,000 MNIST digits, in this one process, alternating
(a) and (b) for --rounds rounds; the best epoch of each is compared. Also measured here: this
machine's float32 matmul peak, and the fraction of it that (b) reaches (FLOPs counted per layer).

    VAE_DATA_DIR=../shared/datasets python benchmarks/train_throughput.py [--rounds 2] [--device cpu]
"""
from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from vae import VAEConfig  # noqa: E402
from vae.data import load_dataset  # noqa: E402
from vae.train import Trainer  # noqa: E402

BATCH, LR, HIDDEN, LATENT = 128, 1e-3, 400, 20


class ExamplesVAE(nn.Module):
    """The architecture of pytorch/examples' vae/main.py: fc1 784→400, fc21/fc22 400→20, fc3 20→400, fc4 400→784."""

    def __init__(self):
        super().__init__()
        self.fc1, self.fc21, self.fc22 = nn.Linear(784, HIDDEN), nn.Linear(HIDDEN, LATENT), nn.Linear(HIDDEN, LATENT)
        self.fc3, self.fc4 = nn.Linear(LATENT, HIDDEN), nn.Linear(HIDDEN, 784)

    def forward(self, x):
        h = F.relu(self.fc1(x.view(-1, 784)))
        mu, logvar = self.fc21(h), self.fc22(h)
        z = mu + torch.randn_like(mu) * torch.exp(0.5 * logvar)
        return torch.sigmoid(self.fc4(F.relu(self.fc3(z)))), mu, logvar


def examples_epoch(loader, model, optimizer, device) -> float:
    """One epoch the way pytorch/examples runs it: DataLoader batches, loss.item() every step."""
    model.train()
    start, train_loss = time.perf_counter(), 0.0
    for data, _ in loader:
        data = data.to(device)
        optimizer.zero_grad()
        recon, mu, logvar = model(data)
        bce = F.binary_cross_entropy(recon, data.view(-1, 784), reduction="sum")
        kld = -0.5 * torch.sum(1 + logvar - mu.pow(2) - logvar.exp())
        loss = bce + kld
        loss.backward()
        train_loss += loss.item()
        optimizer.step()
    return time.perf_counter() - start


def matmul_peak_gflops(device, n=2048, reps=10) -> float:
    a, b = torch.randn(n, n, device=device), torch.randn(n, n, device=device)
    best = float("inf")
    for _ in range(3):
        if device.type == "cuda":
            torch.cuda.synchronize()
        start = time.perf_counter()
        for _ in range(reps):
            a @ b
        if device.type == "cuda":
            torch.cuda.synchronize()
        best = min(best, time.perf_counter() - start)
    return reps * 2 * n**3 / best / 1e9


def epoch_flops(examples: int) -> float:
    """Matmul FLOPs of one epoch: forward 2·in·out per layer and example, backward twice that,
    less the input gradient of the first layer (the data needs none)."""
    layers = [(784, HIDDEN), (HIDDEN, 2 * LATENT), (LATENT, HIDDEN), (HIDDEN, 784)]
    per_example = sum(6 * i * o for i, o in layers) - 2 * 784 * HIDDEN
    return examples * per_example


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", default=os.environ.get("VAE_DATA_DIR"), help="MNIST root (default $VAE_DATA_DIR)")
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--device", default="cpu")
    args = parser.parse_args()
    if not args.data_dir:
        sys.exit("set VAE_DATA_DIR or pass --data-dir (a folder holding MNIST/raw/)")
    from torchvision import datasets, transforms

    device = torch.device(args.device)
    torch.manual_seed(1)
    dataset = datasets.MNIST(args.data_dir, train=True, download=False, transform=transforms.ToTensor())
    loader = torch.utils.data.DataLoader(dataset, batch_size=BATCH, shuffle=True)
    base_model = ExamplesVAE().to(device)
    base_opt = torch.optim.Adam(base_model.parameters(), lr=LR)

    start = time.perf_counter()
    train = load_dataset("mnist", "train", args.data_dir, download=False, fallback=False)
    data = train.to_float(device)
    load_seconds = time.perf_counter() - start
    config = VAEConfig(latent_dim=LATENT, hidden=(HIDDEN,), likelihood="bernoulli", binarize=False,
                       batch_size=BATCH, lr=LR, seed=1)
    trainer = Trainer(config, data, device)

    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads, device {device}; "
          f"{len(dataset):,} examples, batch {BATCH}, 784-{HIDDEN}-{LATENT} MLP VAE, BCE + KL, Adam {LR}")
    times_a, times_b = [], []
    for r in range(1, args.rounds + 1):
        times_a.append(examples_epoch(loader, base_model, base_opt, device))
        times_b.append(trainer.run_epoch().seconds)
        print(f"round {r}: (a) pytorch/examples loop {times_a[-1]:6.2f} s/epoch   (b) vae.Trainer {times_b[-1]:6.2f} s/epoch")
    a, b = min(times_a), min(times_b)
    peak = matmul_peak_gflops(device)
    achieved = epoch_flops(len(dataset)) / b / 1e9
    print(f"(b) loads the split once into one tensor: {load_seconds:.2f} s, outside the epoch")
    print(f"matmul peak (float32, 2048²): {peak:.0f} GFLOP/s; FLOP-limited epoch: "
          f"{epoch_flops(len(dataset)) / peak / 1e9:.2f} s")
    print(f"(b) reaches {achieved:.0f} GFLOP/s = {achieved / peak:.0%} of the matmul peak")
    print(f"best epoch: (a) {a:.2f} s, (b) {b:.2f} s (medians {statistics.median(times_a):.2f} / "
          f"{statistics.median(times_b):.2f})")
    print(f"speed-up (a)/(b): {a / b:.2f}x  (target >= 2.5x)")


if __name__ == "__main__":
    main()
