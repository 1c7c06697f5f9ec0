import json
import math

import pytest

from vae.config import ConfigError, VAEConfig


def test_round_trip_through_json():
    config = VAEConfig(latent_dim=16, hidden=(400, 200), likelihood="bernoulli", binarize=True, beta=2.0)
    again = VAEConfig.from_dict(json.loads(json.dumps(config.to_dict())))
    assert again == config
    assert again.hidden == (400, 200) and again.data_dim == 784


def test_integers_are_accepted_for_float_fields():
    assert VAEConfig.from_dict({"sigma_dec": 1, "beta": 0}).sigma_dec == 1.0


@pytest.mark.parametrize("changes, words", [
    ({"latent_dim": 0}, "latent_dim"),
    ({"latent_dim": 10_000}, "latent_dim"),
    ({"latent_dim": 2.5}, "latent_dim"),
    ({"sigma_dec": 0.0}, "sigma_dec"),
    ({"sigma_dec": -1.0}, "sigma_dec"),
    ({"sigma_dec": math.nan}, "sigma_dec"),
    ({"sigma_dec": math.inf}, "sigma_dec"),
    ({"likelihood": "poisson"}, "likelihood"),
    ({"hidden": ()}, "hidden"),
    ({"hidden": (0,)}, "hidden width"),
    ({"lr": 0.0}, "lr"),
    ({"beta": -1.0}, "beta"),
    ({"batch_size": 0}, "batch_size"),
    ({"binarize": "yes"}, "binarize"),
    ({"dataset": "cifar"}, "dataset"),
])
def test_invalid_values_are_refused_with_the_field_named(changes, words):
    with pytest.raises(ConfigError, match=words):
        VAEConfig(**changes)


def test_unknown_keys_and_wrong_types_from_json():
    with pytest.raises(ConfigError, match="unknown config keys: evil"):
        VAEConfig.from_dict({"latent_dim": 2, "evil": 1})
    with pytest.raises(ConfigError, match="hidden must be a list"):
        VAEConfig.from_dict({"hidden": "512"})
    with pytest.raises(ConfigError, match="likelihood must be a string"):
        VAEConfig.from_dict({"likelihood": 3})
    with pytest.raises(ConfigError, match="JSON object"):
        VAEConfig.from_dict([1, 2])


def test_schedule_fields_are_validated():
    assert VAEConfig.from_dict({"lr_schedule": "cosine", "warmup_epochs": 5}).warmup_epochs == 5.0
    with pytest.raises(ConfigError, match="lr_schedule"):
        VAEConfig(lr_schedule="linear")
    with pytest.raises(ConfigError, match="warmup_epochs"):
        VAEConfig(warmup_epochs=float("nan"))
