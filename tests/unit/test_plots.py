"""Figure builders (ui/plots.py): what they hand the browser, checked against the data they were given."""
import json

import numpy as np

from ui.plots import PALETTE, class_scatter, extent, steady_range, training_curves


def without_data(spec: dict) -> str:
    """A spec as the browser compares it from one redraw to the next, its data left out."""
    return json.dumps({k: v for k, v in spec.items() if k != "datasets"}, sort_keys=True)


def test_the_train_pages_scatter_uses_the_one_palette_in_class_order():
    """The Train page coloured 1 light blue and 7 yellow (Vega's default scheme), unlike every other page."""
    rng = np.random.default_rng(0)
    classes = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"]
    labels = rng.integers(0, 10, 500)
    spec = class_scatter(rng.normal(size=(500, 2)), labels, classes, ["z3", "z1"])
    frame = spec["datasets"][spec["data"]["name"]]
    colour = spec["encoding"]["color"]["scale"]
    assert colour["domain"] == classes and colour["range"] == PALETTE
    assert list(frame["class"]) == [classes[i] for i in labels]
    assert spec["encoding"]["x"]["title"] == "z3"
    for axis in "xy":  # the axes hold 99.8 % of the points (a few far ones do not shrink the cloud to a dot)
        low, high = spec["encoding"][axis]["scale"]["domain"]
        assert np.isfinite([low, high]).all() and low < high


def test_the_live_scatters_axes_stay_put_while_the_cloud_drifts_a_little():
    """Its axes followed the cloud's extent to the last digit: every redraw of Train live's scatter was a new spec
    (Vega compiled and drew a new chart every 6 s) and axes that moved with the cloud hid its moving."""
    rng = np.random.default_rng(1)
    coords, labels = rng.normal(size=(1000, 2)) * [1.5, 0.7] + [0.3, -0.2], rng.integers(0, 10, 1000)

    def spec(points):
        return class_scatter(points, labels, range(10), ["z1", "z2"])

    assert without_data(spec(coords)) == without_data(spec(coords * 1.002 + 0.001))  # a redraw later: new data only
    moved = spec(coords * 2)
    for axis, (low, high) in zip("xy", extent(coords)):
        steady = spec(coords)["encoding"][axis]["scale"]["domain"]
        assert steady[0] <= low < high <= steady[1] and steady[1] - steady[0] <= 1.25 * (high - low)
        assert moved["encoding"][axis]["scale"]["domain"] != steady  # a cloud twice as wide widens the axes
    assert steady_range(-0.93, 2.41) == (-1.0, 2.5)  # steps of 0.5 (the span / 10 is 0.33)
    assert steady_range(1.0, 1.0) == (1.0, 1.0)


def test_training_curves_after_one_step_have_an_axis_and_points():
    """After one Step the chart drew an empty axis labelled 148.000000 and logged "Infinite extent"."""
    one = [{"step": 148, "epoch": 9.25, "elbo": -90.0, "reconstruction": -80.0, "kl": 10.0}]
    spec = training_curves(one)
    frame = spec["datasets"][spec["data"]["name"]]  # a named dataset: Vega's first run has the data
    assert spec["encoding"]["x"]["scale"] == {"domainMin": 0}  # from step 0 to the last (148)
    assert spec["mark"]["point"] is True  # one point makes no line
    assert spec["encoding"]["y"]["scale"]["domain"] == [-95.0, 15.0]  # -90 to 10, padded by 5 %
    single = training_curves(one, ("kl",))["encoding"]["y"]["scale"]["domain"]
    assert single == [9.0, 11.0]  # one value: its axis read "10.000000"
    assert set(frame["term"]) == {"elbo", "reconstruction", "kl"}
    many = [dict(one[0], step=s) for s in range(1, 500)]
    spec = training_curves(many, ("kl",))
    frame = spec["datasets"]["curves"]
    assert "point" not in spec["mark"]
    assert len(frame) <= 201 and frame["step"].max() == 499 and set(frame["term"]) == {"kl"}
    assert "column" not in spec["encoding"] and "width" not in spec  # as wide as its column, never wider
    without_data(spec)  # plain JSON for st.vega_lite_chart
    from ui.plots import CURVES_SPEC

    assert "point" not in CURVES_SPEC["mark"] and "scale" not in CURVES_SPEC["encoding"]["x"]


def test_the_live_charts_specs_stay_the_same_while_only_their_data_grows():
    """The browser swaps a chart's data when its spec is unchanged, and compiles and draws a new chart when it is
    not: the live panel's curves and KL bars gave new axis domains on every redraw (every 2 s)."""
    from ui.plots import curve_panels, kl_bars

    def record(step):
        return {"step": step, "epoch": step / 469, "elbo": -500 + step / 10, "reconstruction": -490 + step / 10,
                "kl": 10 - step / 1000}

    early = [record(s) for s in range(50, 300, 50)]
    later = early + [record(s) for s in range(300, 5000, 50)]
    for (_, a), (_, b) in zip(curve_panels(early), curve_panels(later)):
        assert without_data(a) == without_data(b)
        assert not a["datasets"]["curves"].equals(b["datasets"]["curves"])
    assert without_data(kl_bars([0.1, 2.0])) == without_data(kl_bars([3.5, 0.02]))


def test_the_curves_captions_name_the_colours_their_lines_are_drawn_in():
    """The curves have no legend (Streamlit fits it into the chart's height and the plot was left 30 px high):
    a chart of two lines names each line's colour in its caption, and that is the colour it is drawn in."""
    from ui.plots import PALETTE, curve_panels

    history = [{"step": s, "epoch": 0.1, "elbo": -100.0, "reconstruction": -90.0, "kl": 10.0} for s in (1, 2, 3)]
    (two_caption, two), (one_caption, one) = curve_panels(history)
    assert two_caption == "ELBO (blue) and reconstruction (orange) against step"
    assert two["encoding"]["color"]["scale"] == {"domain": ["elbo", "reconstruction"], "range": PALETTE[:2]}
    assert PALETTE[:2] == ["#1f77b4", "#ff7f0e"]  # blue, orange
    assert one_caption == "KL against step" and one["encoding"]["color"]["scale"]["domain"] == ["kl"]
    assert two["encoding"]["color"]["legend"] is None and one["encoding"]["color"]["legend"] is None


def test_kl_bars_keep_the_dimensions_in_their_order():
    from ui.plots import kl_bars

    spec = kl_bars([0.5] * 12)
    frame = spec["datasets"]["kl"]
    assert list(frame["dimension"]) == [f"z{i}" for i in range(1, 13)]
    assert spec["encoding"]["x"]["sort"] == [f"z{i}" for i in range(1, 13)]  # not z1, z10, z11, z12, z2 …
    assert "params" not in spec  # no scale binding: Vega warned on every update of st.bar_chart's


def test_every_chart_of_classes_tells_them_apart_by_shape_as_well_as_colour():
    """WCAG 1.4.1: the ten classes were told apart by colour alone (a reader who cannot tell the palette's red from
    its green could not tell a 3 from a 2). Each class has its own marker shape too, in the scatter and its legend,
    on the Plotly scatters and the live Vega scatter."""
    from ui.plots import CLASS_SHAPES, CLASS_SYMBOL_NAMES, CLASS_SYMBOLS, latent_scatter

    rng = np.random.default_rng(2)
    labels = rng.integers(0, 10, 300)
    coords = rng.normal(size=(300, 2))
    fig = latent_scatter(coords, labels, list("0123456789"), extent(coords))
    points = next(t for t in fig.data if t.name == "test codes")
    import base64

    spec = points.marker.symbol  # a typed-array spec, as Plotly's JavaScript reads it
    symbols = np.frombuffer(base64.b64decode(spec["bdata"]), dtype={"i1": np.int8}[spec["dtype"]])
    assert list(symbols) == [CLASS_SYMBOLS[c] for c in labels]
    legend = {t.name: t.marker.symbol for t in fig.data if t.showlegend is not False and t.name in "0123456789"}
    assert legend == {str(c): CLASS_SYMBOL_NAMES[c] for c in range(10)}
    assert len(set(CLASS_SYMBOLS)) == len(set(CLASS_SYMBOL_NAMES)) == 10
    import os

    import plotly  # the numbers are Plotly's codes of the names the legend shows (its list: 0, "0", "circle", …)

    with open(os.path.join(os.path.dirname(plotly.__file__), "validators", "_validators.json")) as f:
        known = json.load(f)["scattergl.marker.symbol"]["params"]["values"]
    assert [known[known.index(name) - 2] for name in CLASS_SYMBOL_NAMES] == CLASS_SYMBOLS
    spec = class_scatter(coords, labels, list("0123456789"), ["z1", "z2"])
    shape = spec["encoding"]["shape"]
    assert shape["field"] == spec["encoding"]["color"]["field"] == "class"
    assert shape["scale"]["range"] == CLASS_SHAPES and len(set(CLASS_SHAPES)) == 10


def test_a_scatters_text_alternative_gives_its_size_extent_and_each_classs_centre():
    from ui.plots import describe_scatter

    coords = np.array([[0.0, 0.0], [0.2, 0.0], [3.0, 4.0], [3.2, 4.2]])
    text = describe_scatter(coords, np.array([0, 0, 1, 1]), ["zero", "one"], ("z₁", "z₂"), "four codes")
    assert text.startswith("Scatter plot of four codes: 4 points")
    assert "zero at (0.1, 0.0)" in text and "one at (3.1, 4.1)" in text
    assert "z₁ from" in text and "z₂ from" in text


def test_the_shared_helpers_refuse_a_chart_or_picture_without_a_text_alternative():
    import plotly.graph_objects as go
    import pytest

    from ui import charts, images

    for alt in ("", "   "):
        with pytest.raises(ValueError, match="text alternative"):
            charts.show(go.Figure(), "a chart", key="k", alt=alt)
        with pytest.raises(ValueError, match="text alternative"):
            images.show(np.zeros((4, 4), dtype=np.uint8), alt)
