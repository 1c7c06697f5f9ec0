"""One image through the model: its code, its reconstruction and its ELBO terms (the Draw page's numbers)."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from .objective import elbo, iwae_log_px


@dataclass
class Probe:
    mu: np.ndarray  # [d], the mean of q(z|x)
    sigma: np.ndarray  # [d]
    reconstruction: np.ndarray  # decode(μ), the image's shape
    reconstruction_term: float  # E_q[log p(x|z)]
    kl: float  # KL(q(z|x) ‖ p(z))
    elbo: float
    log_px_iwae: float
    iw_samples: int


@torch.no_grad()
def encode_one(model, image: np.ndarray, samples: int = 256, iw_samples: int = 1000, seed: int = 0) -> Probe:
    """Encode one image ([H, W] in [0, 1]); ELBO = E_q[log p(x|z)] − KL with L = `samples`, and IWAE with K."""
    model.eval()
    x = torch.as_tensor(np.asarray(image, dtype=np.float32)).reshape(1, -1).to(model.device)
    if x.shape[1] != model.config.data_dim:
        raise ValueError(f"the model expects {model.config.data_dim} pixels, the image has {x.shape[1]}")
    generator = torch.Generator(model.device).manual_seed(seed)
    parts = elbo(model, x, samples, generator=generator)
    mu, logvar = model.encode(x)
    shape = model.config.image_shape
    return Probe(mu[0].cpu().numpy(), torch.exp(0.5 * logvar[0]).cpu().numpy(),
                 model.decode(mu)[0].cpu().numpy().reshape(shape), float(parts.reconstruction[0]), float(parts.kl[0]),
                 float(parts.elbo[0]), float(iwae_log_px(model, x, iw_samples, generator=generator)[0]), iw_samples)
