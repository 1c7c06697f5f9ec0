"""Bad input, one case per row: each is refused with a clear message, nothing runs, nothing is lost.

(More cases live beside their features: test_checkpoint.py, test_config.py, test_data.py, test_app.py's
link tests, test_faults.py.)
"""
import gzip
import io
import json
import os
import pickle
import re
import struct
import zipfile

import pytest
import torch

from tests.support.app import session
from vae import VAE, VAEConfig, catalog, checkpoint
from vae.checkpoint import CheckpointError, from_bytes
from vae.config import ConfigError
from vae.data import MAX_IDX_BYTES, DataError, load_sample, read_idx
from vae.train import Trainer


class RunsCode:
    def __reduce__(self):
        return (os.system, ("touch /tmp/vae-pwned",))


def small_bytes(**config):
    torch.manual_seed(0)
    return checkpoint.to_bytes(VAE(VAEConfig(latent_dim=2, hidden=(8,), **config)))


def zip_bomb() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("data.pkl", b"\0" * (50 * 2**20))  # 50 MiB of zeros in a few KB
    return buffer.getvalue()


def huge_tensor_header() -> bytes:
    """A safetensors header promising a 4-TB tensor in a tiny file."""
    header = json.dumps({"w": {"dtype": "F32", "shape": [1 << 40], "data_offsets": [0, 4 << 40]},
                         "__metadata__": {"format": "vae-latent-explorer", "version": "1",
                                          "config": json.dumps(VAEConfig().to_dict())}}).encode()
    return struct.pack("<Q", len(header)) + header + b"\0" * 16


def config_bytes(config: dict) -> bytes:
    data = small_bytes()
    (n,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8: 8 + n])
    header["__metadata__"]["config"] = json.dumps(config)
    raw = json.dumps(header).encode()
    return struct.pack("<Q", len(raw)) + raw + data[8 + n:]


CHECKPOINT_CASES = {
    "pickle that would run code": (lambda: pickle.dumps(RunsCode()), "pickle"),
    "torch.save zip archive": (lambda: zip_bomb(), "zip archive"),
    "truncated safetensors": (lambda: small_bytes()[:-100], "truncated or corrupt"),
    "a few bytes": (lambda: b"\x01\x02", "only 2 bytes"),
    "header length beyond the file": (lambda: struct.pack("<Q", 10**6) + b"{}", "truncated"),
    "4-TB tensor promised": (lambda: huge_tensor_header(), "cannot be read"),
    "oversized upload (limit 64 MiB)": (lambda: b"\0" * (catalog.MAX_CHECKPOINT_BYTES + 1), "limited to 64 MiB"),
    "config with unknown keys": (lambda: config_bytes({**VAEConfig().to_dict(), "evil": 1}), "unknown config keys"),
    "config with wrong types": (lambda: config_bytes({**VAEConfig().to_dict(), "latent_dim": "2"}), "latent_dim"),
    "σ_dec ≤ 0 in the config": (lambda: config_bytes({**VAEConfig().to_dict(), "sigma_dec": 0}), "sigma_dec"),
    "latent dim 0 in the config": (lambda: config_bytes({**VAEConfig().to_dict(), "latent_dim": 0}), "latent_dim"),
    "latent dim 10,000 in the config": (lambda: config_bytes({**VAEConfig().to_dict(), "latent_dim": 10_000}),
                                        "latent_dim"),
    "wrong tensor shapes": (lambda: config_bytes({**VAEConfig(latent_dim=2, hidden=(8,)).to_dict(), "latent_dim": 3}),
                            "shape"),
}


@pytest.mark.parametrize("case", list(CHECKPOINT_CASES))
def test_bad_checkpoints_are_refused_with_a_reason(case, tmp_path):
    make, words = CHECKPOINT_CASES[case]
    if os.path.exists("/tmp/vae-pwned"):
        os.remove("/tmp/vae-pwned")
    with pytest.raises(CheckpointError, match=words):
        from_bytes(make())
    assert not os.path.exists("/tmp/vae-pwned")  # nothing was executed


CONFIG_CASES = {
    "σ_dec = 0": {"sigma_dec": 0.0}, "σ_dec < 0": {"sigma_dec": -1.0}, "σ_dec NaN": {"sigma_dec": float("nan")},
    "σ_dec huge": {"sigma_dec": 1e308}, "lr infinite": {"lr": float("inf")}, "latent dim 0": {"latent_dim": 0},
    "latent dim 10,000": {"latent_dim": 10_000}, "β NaN": {"beta": float("nan")}, "batch 0": {"batch_size": 0},
}


@pytest.mark.parametrize("case", list(CONFIG_CASES))
def test_bad_settings_are_refused_naming_the_field(case):
    changes = CONFIG_CASES[case]
    with pytest.raises(ConfigError, match=next(iter(changes))):
        VAEConfig(**changes)


def test_an_empty_subset_is_refused():
    with pytest.raises(DataError, match="at least one example"):
        load_sample().subset(0)
    with pytest.raises(ValueError, match="non-empty"):
        Trainer(VAEConfig(), torch.empty(0, 784), "cpu")


def test_a_gzip_bomb_in_the_data_folder_is_refused_without_inflating_it(tmp_path):
    bomb = tmp_path / "t10k-images-idx3-ubyte.gz"
    with gzip.open(bomb, "wb", compresslevel=9) as f:
        for _ in range(MAX_IDX_BYTES // 2**20 + 1):
            f.write(b"\0" * 2**20)
    assert bomb.stat().st_size < 2 * 2**20
    with pytest.raises(DataError, match="zip bomb"):
        read_idx(bomb, 2051)


@pytest.mark.parametrize("name", ["../outside", "a/b", "..\\x", "/etc/passwd", "", ".hidden", "x" * 65,
                                  "caf\udce9", "名前", "a\0b"])
def test_unsafe_names_never_write_outside_the_folder(tmp_path, name):
    folder = tmp_path / "models"
    with pytest.raises(ValueError, match="model name|outside"):
        catalog.checkpoint_path(folder, name)
    assert not any(tmp_path.rglob("*.safetensors"))


def test_a_file_with_a_non_utf8_name_is_skipped_not_a_crash(tmp_path):
    good = tmp_path / "good.safetensors"
    good.write_bytes(small_bytes())
    bad = os.path.join(os.fsencode(tmp_path), b"caf\xe9.safetensors")
    with open(bad, "wb") as f:
        f.write(small_bytes())
    assert [i.name for i in catalog.list_checkpoints(tmp_path)] == ["good"]
    assert os.path.exists(bad)  # skipped, not deleted


@pytest.fixture
def models_page(mnist_dir):
    at = session()
    at.run()
    at.switch_page("pages/models.py").run()
    return at


def kept_models(at) -> list[str]:
    from classroom import db, models

    return [m.name for m in models.mine(db.engine(), at.session_state["_identity"])]


@pytest.mark.parametrize("filename,make,words", [
    ("bomb.safetensors", zip_bomb, "zip archive"),
    ("big.safetensors", lambda: b"\0" * (catalog.MAX_CHECKPOINT_BYTES + 1), "limited to 64 MiB"),
    ("evil.safetensors", lambda: pickle.dumps(RunsCode()), "pickle"),
], ids=["zip-bomb", "over-64-MiB", "pickle"])  # made in the test: a 64 MiB parameter was a 268 MB test id
def test_bad_uploads_get_a_message_and_the_app_stays_up(models_page, filename, make, words):
    at, data = models_page, make()
    at.file_uploader(key="upload_file").set_value((filename, data, "application/octet-stream")).run()
    assert not at.exception
    assert any(words in e.value for e in at.error)
    assert kept_models(at) == []
    assert at.header[0].value == "Models"


def test_an_upload_with_a_non_ascii_or_path_name_is_saved_under_a_safe_name(models_page):
    """(A browser sends file names as UTF-8: non-UTF-8 names reach the app only on disk, tested above.)"""
    at = models_page
    at.file_uploader(key="upload_file").set_value(("../../café 名前.safetensors", small_bytes(), "application/octet-stream")).run()
    assert not at.exception
    offered = at.text_input[0].value
    assert re.fullmatch(r"mnist-2d-sigma[0-9.]+-[a-z2-9]{4}", offered), offered  # the offered name is safe
    at.text_input[0].set_value("../../escape")
    at.form_submit_button[0].click().run()
    assert any("Not saved" in e.value for e in at.error)
    assert kept_models(at) == []
    at.text_input[0].set_value("mine")
    at.form_submit_button[0].click().run()
    assert kept_models(at) == ["mine"]


@pytest.mark.parametrize("query", [{"train_latent": "10000", "train_seed": "nan"},
                                   {"train_latent": "0", "train_beta": "inf"},
                                   {"train_sigma": "-1", "train_lr": "1e308"}])
def test_huge_nan_or_zero_values_in_a_train_link_are_ignored(query):
    at = session()
    at.query_params.update(query)
    at.switch_page("pages/train.py").run()
    assert not at.exception
    assert len(at.toast) >= 2 and all("Ignored" in t.value for t in at.toast)
    assert at.number_input(key="train_latent").value == 2 and at.number_input(key="train_seed").value == 0
