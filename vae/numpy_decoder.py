"""The decoder of a checkpoint evaluated with numpy: no torch import, for fast pages and start-up.

The same network as `VAE.decode` — Linear → ReLU → … → Linear → sigmoid — read from the
checkpoint's `decoder.*` weights; `tests/unit/test_numpy_decoder.py` holds it to the torch decoder.
"""
from __future__ import annotations

import numpy as np

from .catalog import read_info


class NumpyDecoder:
    def __init__(self, layers: list[tuple[np.ndarray, np.ndarray]], image_shape: tuple[int, ...]):
        self.layers = layers  # (weight [out, in], bias [out]) in order
        self.image_shape = image_shape
        for weight, bias in layers:
            weight.setflags(write=False)
            bias.setflags(write=False)

    @classmethod
    def from_checkpoint(cls, path) -> "NumpyDecoder":
        from safetensors import safe_open

        info = read_info(path)  # validates the format and config
        with safe_open(str(path), framework="numpy") as f:
            names = sorted({k.rsplit(".", 1)[0] for k in f.keys() if k.startswith("decoder.")},
                           key=lambda n: int(n.split(".")[1]))
            layers = [(f.get_tensor(n + ".weight").astype(np.float32), f.get_tensor(n + ".bias").astype(np.float32))
                      for n in names]
        expected = [info.config.latent_dim, *reversed(info.config.hidden), info.config.data_dim]
        if [w.shape[1] for w, _ in layers] + [layers[-1][0].shape[0]] != expected:
            raise ValueError(f"{path}: decoder weights do not match the config's widths {expected}")
        return cls(layers, info.config.image_shape)

    def decode(self, z) -> np.ndarray:
        """Mean images sigmoid(MLP(z)) for z [N, d]: [N, *image_shape] in [0, 1]."""
        h = np.atleast_2d(np.asarray(z, dtype=np.float32))
        for i, (weight, bias) in enumerate(self.layers):
            h = h @ weight.T + bias
            if i < len(self.layers) - 1:
                np.maximum(h, 0, out=h)
        return (0.5 + 0.5 * np.tanh(0.5 * h)).reshape(-1, *self.image_shape)  # sigmoid, without overflow
