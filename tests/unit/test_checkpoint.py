import json
import os
import pickle

import pytest
import torch
from safetensors.torch import save as save_safetensors

from tests.support import ROOT
from vae import VAE, VAEConfig, checkpoint
from vae.checkpoint import CheckpointError


@pytest.fixture
def model():
    torch.manual_seed(0)
    return VAE(VAEConfig(latent_dim=2, hidden=(32, 16), sigma_dec=0.1)).eval()


def test_round_trip_keeps_weights_config_metrics_and_extras(tmp_path, model):
    path = checkpoint.save(tmp_path / "m.safetensors", model, {"train": {"elbo": -1.5}}, {"command": "python -m vae"},
                           extras={"test_mu": torch.arange(6.0).reshape(3, 2)})
    loaded = checkpoint.load(path)
    assert loaded.config == model.config
    assert loaded.metrics == {"train": {"elbo": -1.5}} and loaded.meta["command"] == "python -m vae"
    assert torch.equal(loaded.extras["test_mu"], torch.arange(6.0).reshape(3, 2))
    z = torch.randn(5, 2)
    assert torch.equal(loaded.model.decode(z), model.decode(z))
    header = checkpoint.read_header(path.read_bytes())
    assert json.loads(header["__metadata__"]["config"])["sigma_dec"] == 0.1


def test_save_is_atomic_and_leaves_no_temporary_files(tmp_path, model, monkeypatch):
    path = checkpoint.save(tmp_path / "m.safetensors", model)
    before = path.read_bytes()

    def broken_replace(src, dst):
        raise OSError("disk went away")

    monkeypatch.setattr(os, "replace", broken_replace)
    with pytest.raises(OSError):
        checkpoint.save(path, model, {"new": 1})
    assert path.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["m.safetensors"]


class RunsCode:
    def __reduce__(self):
        return (os.system, (f"touch {self.marker}",))


def test_a_pickle_that_would_run_code_is_refused_and_never_runs(tmp_path):
    marker = tmp_path / "pwned"
    payload = RunsCode()
    payload.marker = marker
    evil = tmp_path / "evil.safetensors"
    evil.write_bytes(pickle.dumps(payload))
    with pytest.raises(CheckpointError, match="pickle"):
        checkpoint.load(evil)
    assert not marker.exists()


def test_a_torch_save_file_is_refused(tmp_path, model):
    path = tmp_path / "model.pt"
    torch.save(model.state_dict(), path)
    with pytest.raises(CheckpointError, match="zip archive"):
        checkpoint.load(path)


def test_truncated_file(tmp_path, model):
    data = checkpoint.to_bytes(model)
    for cut in (4, 100, len(data) - 50):
        with pytest.raises(CheckpointError):
            checkpoint.from_bytes(data[:cut])


def tampered(model, config_dict=None, tensors=None, **meta):
    header = {"format": checkpoint.FORMAT, "version": checkpoint.VERSION,
              "config": json.dumps(config_dict if config_dict is not None else model.config.to_dict())}
    header.update(meta)
    return save_safetensors(tensors if tensors is not None else dict(model.state_dict()), metadata=header)


def test_wrong_shapes_for_the_config(model):
    config = model.config.to_dict() | {"latent_dim": 3}
    with pytest.raises(CheckpointError, match="shape"):
        checkpoint.from_bytes(tampered(model, config))


def test_missing_and_unexpected_weights(model):
    tensors = dict(model.state_dict())
    tensors.pop("decoder.0.bias")
    tensors["evil"] = torch.zeros(1)
    with pytest.raises(CheckpointError, match="missing decoder.0.bias; unexpected evil"):
        checkpoint.from_bytes(tampered(model, tensors=tensors))


def test_bad_configs_in_the_metadata(model):
    with pytest.raises(CheckpointError, match="unknown config keys"):
        checkpoint.from_bytes(tampered(model, model.config.to_dict() | {"shell": "rm -rf /"}))
    with pytest.raises(CheckpointError, match="sigma_dec"):
        checkpoint.from_bytes(tampered(model, model.config.to_dict() | {"sigma_dec": -1}))
    with pytest.raises(CheckpointError, match="not valid JSON"):
        checkpoint.from_bytes(tampered(model, metrics="{nope"))


def test_non_finite_and_wrong_dtype_weights(model):
    tensors = {k: v.clone() for k, v in model.state_dict().items()}
    tensors["encoder.0.weight"][0, 0] = float("nan")
    with pytest.raises(CheckpointError, match="NaN"):
        checkpoint.from_bytes(tampered(model, tensors=tensors))
    tensors = {k: v.double() for k, v in model.state_dict().items()}
    with pytest.raises(CheckpointError, match="float64"):
        checkpoint.from_bytes(tampered(model, tensors=tensors))


def test_foreign_safetensors_and_versions(model):
    with pytest.raises(CheckpointError, match="not a vae-latent-explorer checkpoint"):
        checkpoint.from_bytes(save_safetensors(dict(model.state_dict())))
    with pytest.raises(CheckpointError, match="version '9'"):
        checkpoint.from_bytes(tampered(model, version="9"))


def test_size_limit_and_missing_file(tmp_path, monkeypatch, model):
    monkeypatch.setattr(checkpoint, "MAX_CHECKPOINT_BYTES", 1000)
    path = checkpoint.save(tmp_path / "big.safetensors", model)
    with pytest.raises(CheckpointError, match="over the"):
        checkpoint.load(path)
    with pytest.raises(CheckpointError, match="cannot be read"):
        checkpoint.load(tmp_path / "absent.safetensors")


def test_checkpoints_are_listed_with_their_numbers_read_as_numbers():
    """The sidebar listed mnist-sweep16d-sigma1.5 before sigma1, and sigma0.05 after sigma0.1 would be next."""
    from vae.catalog import list_checkpoints

    names = [info.name for info in list_checkpoints(ROOT / "checkpoints" / "sweeps" / "mnist-16d-sigma")]
    values = [float(name.rsplit("sigma", 1)[1]) for name in names]
    assert values == sorted(values) and len(values) == 10
