"""Figure builders (ui/plots.py): what they hand the browser, checked against the data they were given."""
import json

import numpy as np

from ui.plots import PALETTE, class_scatter, training_curves


def test_the_train_pages_scatter_uses_the_one_palette_in_class_order():
    """The Train page coloured 1 light blue and 7 yellow (Vega's default scheme), unlike every other page."""
    rng = np.random.default_rng(0)
    classes = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"]
    labels = rng.integers(0, 10, 500)
    frame, spec = class_scatter(rng.normal(size=(500, 2)), labels, classes, ["z3", "z1"])
    colour = spec["encoding"]["color"]["scale"]
    assert colour["domain"] == classes and colour["range"] == PALETTE
    assert list(frame["class"]) == [classes[i] for i in labels]
    assert spec["encoding"]["x"]["title"] == "z3"
    for axis in "xy":  # given, so Vega never computes an extent from a dataset that has not arrived yet
        low, high = spec["encoding"][axis]["scale"]["domain"]
        assert np.isfinite([low, high]).all() and low < high


def test_training_curves_after_one_step_have_an_axis_and_points():
    """After one Step the chart drew an empty axis labelled 148.000000 and logged "Infinite extent"."""
    one = [{"step": 148, "epoch": 9.25, "elbo": -90.0, "reconstruction": -80.0, "kl": 10.0}]
    frame, spec = training_curves(one)
    assert spec["encoding"]["x"]["scale"]["domain"] == [0, 148]
    assert spec["mark"]["point"] is True  # one point makes no line
    assert set(frame["term"]) == {"elbo", "reconstruction", "kl"}
    many = [dict(one[0], step=s) for s in range(1, 500)]
    frame, spec = training_curves(many, ("kl",))
    assert spec["encoding"]["x"]["scale"]["domain"] == [0, 499] and "point" not in spec["mark"]
    assert len(frame) <= 201 and frame["step"].max() == 499 and set(frame["term"]) == {"kl"}
    assert "column" not in spec["encoding"] and "width" not in spec  # as wide as its column, never wider
    json.dumps(spec)  # plain JSON for st.vega_lite_chart
    from ui.plots import CURVES_SPEC

    assert "point" not in CURVES_SPEC["mark"] and "scale" not in CURVES_SPEC["encoding"]["x"]


def test_kl_bars_keep_the_dimensions_in_their_order():
    from ui.plots import kl_bars

    frame, spec = kl_bars([0.5] * 12)
    assert list(frame["dimension"]) == [f"z{i}" for i in range(1, 13)]
    assert spec["encoding"]["x"]["sort"] == [f"z{i}" for i in range(1, 13)]  # not z1, z10, z11, z12, z2 …
    assert "params" not in spec  # no scale binding: Vega warned on every update of st.bar_chart's
