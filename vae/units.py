"""Bits per dimension: nats per image turned into the figures papers report (no torch: the sidebar uses it).

Each function works on floats, numpy arrays and torch tensors alike.
"""
from __future__ import annotations

import math
from typing import Any

Number = Any  # float, numpy array or torch tensor

EIGHT_BIT_NATS = math.log(256)  # nats per pixel of a uniform 1/256-wide bin: the 8-bit grid's volume term


def nats_to_bits_per_dim(nats: Number, data_dim: int) -> Number:
    """A cost in nats per image → bits per dimension: nats / (D · ln 2)."""
    return nats / (data_dim * math.log(2))


def bits_per_dim_8bit(log_px: Number, data_dim: int) -> Number:
    """Bits per dimension of 8-bit images, the figure papers report (lower is better):

        bpd = (−log p(x) + D·ln 256) / (D·ln 2)

    p is the Gaussian decoder's density, N(decode(z), σ²I) integrated over z: a density on ℝ^D (most of its
    mass lies outside [0, 1]^D). The grey levels are k/255, k = 0…255; read each as the middle of a bin 1/256
    wide, so the level's probability is about p(x)·256^−D when p hardly changes across one bin. That is an
    approximation: the bound of Theis et al. (2016) holds for the density averaged over uniformly dequantised
    data, not for the density read at one grid point. E.g. log p(x) = 46.5 nats, D = 784 → 7.91 bits/dim.
    With the ELBO or IWAE in place of log p(x) it is an upper bound on that approximation.
    """
    return nats_to_bits_per_dim(-log_px + data_dim * EIGHT_BIT_NATS, data_dim)


def bits_per_dim_binary(log_px: Number, data_dim: int) -> Number:
    """Bits per dimension of binary images: −log P(x) / (D·ln 2), for the Bernoulli decoder on binarised
    data, where P is a probability (e.g. 86.76 nats on binarised MNIST → 0.160)."""
    return nats_to_bits_per_dim(-log_px, data_dim)


def bits_per_dim(log_px: float, config) -> tuple[str, float] | None:
    """(name, value) of the bits/dim figure a model's log p(x) supports, the name also its JSON key:

    "bits_per_dim_8bit" for the Gaussian decoder (a density on ℝ^D; 8-bit pixels read as 1/256-wide bins),
    "bits_per_dim_binary" for the Bernoulli decoder on binarised data (a probability), and None for a
    Bernoulli decoder on grey levels, whose "likelihood" is not normalised.
    """
    if config.likelihood == "gaussian":
        return "bits_per_dim_8bit", bits_per_dim_8bit(log_px, config.data_dim)
    if config.binarize:
        return "bits_per_dim_binary", bits_per_dim_binary(log_px, config.data_dim)
    return None


LABELS = {"bits_per_dim_8bit": "bits/dim (8-bit pixels, approximate)", "bits_per_dim_binary": "bits/dim (binary pixels)"}
