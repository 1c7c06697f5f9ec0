import numpy as np
import pytest
import torch

from vae import VAE, VAEConfig, checkpoint
from vae.numpy_decoder import NumpyDecoder


@pytest.mark.parametrize("config", [VAEConfig(latent_dim=2, hidden=(64,)), VAEConfig(latent_dim=16, hidden=(128, 32))])
def test_numpy_decoder_matches_the_torch_decoder(tmp_path, config):
    torch.manual_seed(0)
    model = VAE(config).eval()
    path = checkpoint.save(tmp_path / "m.safetensors", model)
    z = np.random.default_rng(0).normal(size=(50, config.latent_dim)).astype(np.float32) * 2
    with torch.no_grad():
        expected = model.decode(torch.from_numpy(z)).numpy().reshape(50, 28, 28)
    got = NumpyDecoder.from_checkpoint(path).decode(z)
    assert got.shape == (50, 28, 28)
    np.testing.assert_allclose(got, expected, atol=1e-5)
