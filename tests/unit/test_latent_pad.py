"""The browser decoder (ui/latent_pad/decoder.js) against the torch decoder, run in node."""
import json
import shutil
import subprocess

import numpy as np
import pytest
import torch

from tests.support import ROOT
from vae import VAE, VAEConfig, checkpoint
from vae.numpy_decoder import NumpyDecoder

NODE = shutil.which("node")


@pytest.mark.skipif(NODE is None, reason="needs node to run the browser decoder")
@pytest.mark.parametrize("config", [VAEConfig(latent_dim=2, hidden=(240,)), VAEConfig(latent_dim=16, hidden=(128, 64))])
def test_the_javascript_decoder_matches_pytorch_to_1e_4(tmp_path, config):
    from ui.latent_pad import payload

    torch.manual_seed(0)
    model = VAE(config).eval()
    path = checkpoint.save(tmp_path / "m.safetensors", model)
    z = np.random.default_rng(1).normal(size=(20, config.latent_dim)).astype(np.float32) * 2
    data = payload(NumpyDecoder.from_checkpoint(path), np.zeros((1, config.latent_dim)), np.zeros(1))
    (tmp_path / "payload.json").write_text(json.dumps({"payload": data, "z": z.tolist()}))
    shutil.copy(ROOT / "ui" / "latent_pad" / "decoder.js", tmp_path / "decoder.mjs")
    script = """
        import { decoderFromPayload } from './decoder.mjs';
        import { readFileSync } from 'node:fs';
        const { payload, z } = JSON.parse(readFileSync('payload.json', 'utf8'));
        const decode = decoderFromPayload(payload);
        console.log(JSON.stringify(z.map((row) => Array.from(decode(Float32Array.from(row))))));
    """
    out = subprocess.run([NODE, "--input-type=module", "-e", script], cwd=tmp_path, capture_output=True, text=True,
                         check=True, timeout=60).stdout
    js = np.array(json.loads(out), dtype=np.float32)
    with torch.no_grad():
        expected = model.decode(torch.from_numpy(z)).numpy()
    assert js.shape == expected.shape == (20, 784)
    np.testing.assert_allclose(js, expected, atol=1e-4)
