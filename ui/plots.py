"""Figure builders: data in, Plotly figure out. No model math here."""
from __future__ import annotations

import math

import numpy as np
import plotly.graph_objects as go

PALETTE = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf"]
# The palette as a stepped colour scale over [0, 10]: class c is drawn at c + 0.5. A numeric colour array travels
# as a typed array; 10,000 colour strings cost Plotly a quarter of a second of validation on every draw.
CLASS_COLORSCALE = [[stop, colour] for c, colour in enumerate(PALETTE) for stop in (c / 10, (c + 1) / 10)]
# Each class's second cue beside its colour (WCAG 1.4.1: colour is never the only carrier of meaning): a marker shape,
# the same in the legend. Plotly's symbols by number, handed over as a typed-array spec (`typed_codes`): Plotly checks
# a symbol array element by element, 0.45 s for 10,000 numbers on every draw of a scatter; a spec it passes through:
# circle, square, diamond, cross, x, triangle-up, triangle-down, triangle-left, triangle-right,
# star. Vega-Lite's shapes for the live scatter (class_scatter): its own names, the first eight the same.
CLASS_SYMBOLS = [0, 1, 2, 3, 4, 5, 6, 7, 8, 17]
CLASS_SYMBOL_NAMES = ["circle", "square", "diamond", "cross", "x", "triangle-up", "triangle-down", "triangle-left",
                      "triangle-right", "star"]
CLASS_SHAPES = ["circle", "square", "diamond", "cross", "triangle-up", "triangle-down", "triangle-left",
                "triangle-right", "wedge", "arrow"]
CLICK_GRID = 40  # invisible points per side that make empty space clickable


def typed_codes(codes: np.ndarray) -> dict:
    """Small integers as Plotly's typed-array spec ({dtype, bdata}: base64 bytes), which its validators pass through
    as they are (an array of them is checked element by element) and its JavaScript reads as an Int8Array."""
    import base64

    return {"dtype": "i1", "bdata": base64.b64encode(np.ascontiguousarray(codes, dtype=np.int8).tobytes()).decode()}


def extent(coords: np.ndarray, pad: float = 0.05) -> tuple[tuple[float, float], tuple[float, float]]:
    """Axis ranges holding 99.8 % of the points, padded."""
    lo, hi = np.percentile(coords, [0.1, 99.9], axis=0)
    span = hi - lo
    return (float(lo[0] - pad * span[0]), float(hi[0] + pad * span[0])), (float(lo[1] - pad * span[1]),
                                                                          float(hi[1] + pad * span[1]))


def steady_range(low: float, high: float, steps: int = 10) -> tuple[float, float]:
    """[low, high] widened to multiples of a 1-2-5 step of about (high − low) / steps: for a chart redrawn while
    its data drift, a range that moves only when they cross a step (its axes stay put, so the eye sees the data
    move, and Vega swaps the data of an unchanged spec instead of compiling a new chart)."""
    if not high > low:
        return low, high
    rough = (high - low) / steps
    power = 10.0 ** math.floor(math.log10(rough))
    step = next(m * power for m in (1, 2, 5, 10) if m * power >= rough)
    return math.floor(low / step) * step, math.ceil(high / step) * step


def latent_scatter(coords: np.ndarray, labels: np.ndarray, classes, ranges, selected: int | None = None,
                   marker: tuple[float, float] | None = None, paths: dict[str, np.ndarray] | None = None,
                   axis_titles=("z₁", "z₂"), height: int = 520, opacity: float = 0.55,
                   samples: np.ndarray | None = None, curves: dict[str, np.ndarray] | None = None) -> go.Figure:
    """WebGL scatter of latent points coloured by class; an invisible grid makes empty space clickable.

    Every point's customdata is [kind, index]: kind 0 for a data point (index into coords), 1 for a grid point.
    `samples` ([M, 2]) are drawn as white dots ringed in black, `curves` (name → [n, 2]) as crimson outlines.
    (numpy arrays travel as typed arrays, fast to send; a clicked point's customdata then comes back as a dict.)
    """
    fig = go.Figure()
    (x0, x1), (y0, y1) = ranges
    gx, gy = np.meshgrid(np.linspace(x0, x1, CLICK_GRID), np.linspace(y0, y1, CLICK_GRID))
    fig.add_trace(go.Scattergl(x=gx.ravel(), y=gy.ravel(), mode="markers", name="empty space",
                               marker=dict(size=9, color="rgba(0,0,0,0.004)"), showlegend=False,
                               customdata=np.stack([np.ones(gx.size), np.arange(gx.size)], 1).astype(np.int32),
                               hovertemplate="z = (%{x:.2f}, %{y:.2f})<extra>click to decode</extra>"))
    names = np.asarray([str(n) for n in classes])
    fig.add_trace(go.Scattergl(x=coords[:, 0], y=coords[:, 1], mode="markers", name="test codes", showlegend=False,
                               marker=dict(size=6, color=labels % 10 + 0.5, cmin=0, cmax=10,
                                           colorscale=CLASS_COLORSCALE, opacity=opacity,
                                           symbol=typed_codes(np.asarray(CLASS_SYMBOLS, dtype=np.int8)[labels % 10])),
                               customdata=np.stack([np.zeros(len(coords)), np.arange(len(coords))], 1).astype(np.int32),
                               text=names[labels], hovertemplate="%{text} · #%{customdata[1]}<extra></extra>"))
    for c, name in enumerate(names):  # legend entries only: one WebGL trace draws far faster than ten
        fig.add_trace(go.Scatter(x=[None], y=[None], mode="markers", name=name,
                                 marker=dict(size=9, color=PALETTE[c % 10], symbol=CLASS_SYMBOL_NAMES[c % 10])))
    # Overlays are WebGL traces too, added after the points: Plotly draws its WebGL layer above the SVG one, so
    # an SVG overlay lay under the 10,000 dots. Only the paths have legend entries (they are always there):
    # a legend that grows after a click narrows the plot, and it no longer lines up with the manifold grid.
    for (name, path), dash in zip((paths or {}).items(), ("solid", "dot", "dash")):
        fig.add_trace(go.Scattergl(x=path[:, 0], y=path[:, 1], mode="lines+markers", name=name,
                                   line=dict(color="black", width=2, dash=dash), marker=dict(size=5, color="black")))
    for (name, curve), dash in zip((curves or {}).items(), ("solid", "dash", "dot")):
        fig.add_trace(go.Scattergl(x=curve[:, 0], y=curve[:, 1], mode="lines", name=name, hoverinfo="skip",
                                   line=dict(color="crimson", width=2, dash=dash)))
    if samples is not None:
        fig.add_trace(go.Scattergl(x=samples[:, 0], y=samples[:, 1], mode="markers", name="samples",
                                   hovertemplate="z = (%{x:.2f}, %{y:.2f})<extra>sample</extra>",
                                   marker=dict(size=7, color="white", line=dict(color="black", width=1.5))))
    if selected is not None:
        fig.add_trace(go.Scattergl(x=[coords[selected, 0]], y=[coords[selected, 1]], mode="markers", name="selected",
                                   showlegend=False, hoverinfo="skip",
                                   marker=dict(size=16, color="rgba(0,0,0,0)", line=dict(color="black", width=3))))
    if marker is not None:
        fig.add_trace(go.Scattergl(x=[marker[0]], y=[marker[1]], mode="markers", name="z", showlegend=False,
                                   hoverinfo="skip", marker=dict(size=14, symbol="x", color="black",
                                                                 line=dict(color="white", width=1))))
    fig.update_layout(height=height, margin=dict(l=10, r=10, t=30, b=10), legend=dict(itemsizing="constant"),
                      xaxis=dict(range=[x0, x1], title=axis_titles[0]), dragmode="pan",
                      yaxis=dict(range=[y0, y1], title=axis_titles[1], scaleanchor=None), clickmode="event+select")
    return fig


def describe_scatter(coords: np.ndarray, labels: np.ndarray, classes, axis_titles=("z₁", "z₂"),
                     what: str = "latent means") -> str:
    """A text alternative for a latent scatter (latent_scatter, class_scatter): the number of points, the axes'
    extent (extent: 99.8 % of the points) and each class's centre (the median of its points), which is what a reader
    of the picture takes from it: where each class sits."""
    coords, labels = np.asarray(coords, dtype=float), np.asarray(labels)
    (x0, x1), (y0, y1) = extent(coords)
    centres = "; ".join(f"{classes[c]} at ({np.median(coords[labels == c, 0]):.1f}, "
                        f"{np.median(coords[labels == c, 1]):.1f})" for c in range(len(classes)) if (labels == c).any())
    return (f"Scatter plot of {what}: {len(coords):,} points, {axis_titles[0]} from {x0:.1f} to {x1:.1f} across, "
            f"{axis_titles[1]} from {y0:.1f} to {y1:.1f} up; each class has its own colour and marker shape. "
            f"The classes' centres: {centres}.")


def describe_bars(terms: dict[str, tuple[float, ...]], series, unit: str, digits: int = 2) -> str:
    """A text alternative for bars (grouped_bars): each term's value in each series, as the labels beside the bars
    read."""
    parts = "; ".join(f"{name}: " + ", ".join(f"{v:.{digits}f} ({s})" for v, s in zip(values, series))
                      for name, values in terms.items())
    return f"Horizontal bars, in {unit}. {parts}."


def describe_curves(xs, curves: dict[str, np.ndarray], x_name: str, unit: str, at: float | None = None,
                    marks: dict[str, float] | None = None, digits: int = 3) -> str:
    """A text alternative for lines against one variable (sigma_curves, sweep_terms, …): the x range, and for each
    line its highest point and, at x = `at` (the current setting), its value; `marks` names the vertical lines
    drawn (label → x)."""
    xs = np.asarray(xs, dtype=float)
    k = int(np.argmin(np.abs(xs - at))) if at is not None else None
    lines = []
    for name, ys in curves.items():
        ys = np.asarray(ys, dtype=float)
        top = int(np.nanargmax(ys))
        line = f"{name}: highest {ys[top]:.{digits}g} at {x_name} = {xs[top]:g}"
        if k is not None:
            line += f", {ys[k]:.{digits}g} at {x_name} = {xs[k]:g}"
        lines.append(line)
    marked = ("; marked: " + ", ".join(f"{label} = {x:.3g}" for label, x in marks.items())) if marks else ""
    return (f"Lines against {x_name} from {xs.min():g} to {xs.max():g}, in {unit}. " + "; ".join(lines)
            + marked + ".")


def log_ticks(low: float, high: float, max_ticks: int = 9) -> list[float]:
    """Tick values for a log axis over [low, high], each to be labelled with its whole value: 1-2-5 per decade,
    else 1-3, else decades (Plotly's own log ticks label 0.9 as "9" and 20 as "2")."""
    first, last = math.floor(math.log10(low)), math.ceil(math.log10(high))
    for mantissas in ((1, 2, 5), (1, 3), (1,)):
        ticks = [float(f"{m * 10.0 ** e:.6g}") for e in range(first, last + 1) for m in mantissas
                 if low * (1 - 1e-9) <= m * 10.0 ** e <= high * (1 + 1e-9)]
        if len(ticks) <= max_ticks:
            break
    if len(ticks) < 2:  # a range narrower than 1-2-5 steps: a few round values inside it
        ticks = sorted({float(f"{v:.2g}") for v in np.geomspace(low, high, 4)})
    return ticks


def log_axis(values, title: str, pad: float = 1.15, ticks=None) -> dict:
    """A Plotly log axis over `values` (positive numbers), padded by the factor `pad`, whose tick labels read as
    the numbers they stand for ("0.9", not "9"); `ticks`: the values to label, else `log_ticks`."""
    values = np.asarray([v for v in np.ravel(values) if v is not None and np.isfinite(v) and v > 0], dtype=np.float64)
    low, high = float(values.min()) / pad, float(values.max()) * pad
    ticks = log_ticks(low, high) if ticks is None else [float(t) for t in ticks]
    return dict(type="log", title=title, range=[math.log10(low), math.log10(high)], tickmode="array",
                tickvals=ticks, ticktext=[f"{t:g}" for t in ticks])


def tile(images: np.ndarray, pad: int = 1) -> np.ndarray:
    """[rows, cols, H, W] images → one [rows·(H+pad), cols·(W+pad)] array (row 0 on top)."""
    rows, cols, h, w = images.shape
    out = np.ones((rows * (h + pad) - pad, cols * (w + pad) - pad), dtype=np.float32)
    for r in range(rows):
        for c in range(cols):
            out[r * (h + pad): r * (h + pad) + h, c * (w + pad): c * (w + pad) + w] = images[r, c]
    return out


def png_data_uri(image: np.ndarray) -> str:
    """[H, W] floats in [0, 1] → a PNG data URI (cheap for the browser to draw, unlike a heatmap)."""
    from ui.images import data_uri, to_uint8

    return data_uri(to_uint8(image))


def manifold(images: np.ndarray, xs: np.ndarray, ys: np.ndarray, ranges=None, height: int = 520,
             axis_titles=("z₁", "z₂")) -> go.Figure:
    """The decoded grid drawn in latent coordinates: tile (i, j) centred on (xs[j], ys[i]); ys ascending.
    `ranges` (the scatter's axis ranges) keeps the two plots on the same scale."""
    rows, cols = images.shape[:2]
    picture = tile(images[::-1], pad=0)  # highest y in the top row of the picture
    return manifold_picture(png_data_uri(picture), rows, cols, xs, ys, ranges, height, axis_titles)


def manifold_picture(source: str, rows: int, cols: int, xs: np.ndarray, ys: np.ndarray, ranges=None,
                     height: int = 520, axis_titles=("z₁", "z₂"), square: bool = False, ticks=None) -> go.Figure:
    """A ready picture of rows × cols tiles (highest y in its top row; an image URI) drawn in latent coordinates,
    tile (i, j) centred on (xs[j], ys[i]).

    The picture is a layout image anchored at its top-left corner (x, y) in data coordinates, stretched over
    its extent: drawn upright in every browser. (A go.Image trace given a `source` takes a fast path in
    Chromium and Firefox that ignores the sign of dy and drew the grid upside down, every tile flipped.)
    `square`: one unit as long across as up, so square tiles stay square.
    """
    step_x = (xs[-1] - xs[0]) / max(cols - 1, 1)
    step_y = (ys[-1] - ys[0]) / max(rows - 1, 1)
    left, top = xs[0] - step_x / 2, ys[-1] + step_y / 2
    fig = go.Figure()
    fig.add_layout_image(source=source, xref="x", yref="y", x=left, y=top, sizex=cols * step_x,
                         sizey=rows * step_y, xanchor="left", yanchor="top", sizing="stretch", layer="below")
    if ranges is None:
        ranges = ((left, left + cols * step_x), (top - rows * step_y, top))
    fig.update_layout(height=height, margin=dict(l=10, r=10, t=30, b=10),
                      xaxis=dict(title=axis_titles[0], range=list(ranges[0]), showgrid=False, zeroline=False),
                      yaxis=dict(title=axis_titles[1], range=list(ranges[1]), showgrid=False, zeroline=False))
    if square:
        fig.update_layout(yaxis=dict(scaleanchor="x", scaleratio=1, constrain="domain"),
                          xaxis=dict(constrain="domain"))
    if ticks is not None:
        fig.update_xaxes(tickvals=list(ticks))
        fig.update_yaxes(tickvals=list(ticks))
    return fig


def grouped_bars(terms: dict[str, tuple[float, float]], unit: str, first: str = "this digit", digits: int = 2,
                 height: int = 340) -> go.Figure:
    """Horizontal bars per term (top to bottom) for two series (`first`: one example; the test batch's mean), each
    labelled to `digits` decimals beside its bar: the terms' names read on the left, however narrow the column."""
    names = list(terms)
    values = [v for n in names for v in terms[n]]
    low, high = min(0.0, *values), max(0.0, *values)
    pad = 0.18 * (high - low or 1.0)  # room for the labels outside the bars
    fig = go.Figure([go.Bar(name=series, y=names, x=[terms[n][k] for n in names], orientation="h",
                            text=[f"{terms[n][k]:.{digits}f}" for n in names], textposition="outside", cliponaxis=False)
                     for k, series in enumerate((first, "test batch (mean)"))])
    fig.update_layout(barmode="group", height=height, margin=dict(l=10, r=10, t=30, b=10),
                      legend=dict(orientation="h", y=1.02, yanchor="bottom", x=0),
                      xaxis=dict(title=unit, range=[low - (pad if low < 0 else 0), high + (pad if high > 0 else 0)]),
                      yaxis=dict(autorange="reversed"))
    return fig


def sigma_curves(sigmas: np.ndarray, curves: dict[str, np.ndarray], current: float, star: float, unit: str,
                 height: int = 420) -> go.Figure:
    """Terms against σ_dec (log axis), with the current σ and σ* marked; the legend above the plot, in rows (at its
    right, the legend took 290 of a phone's 330 px, and the plot's eight ticks ran into each other; under it, its
    place in the plot's units met the ticks in a wide window)."""
    fig = go.Figure([go.Scatter(x=sigmas, y=y, mode="lines", name=name) for name, y in curves.items()])
    # Near σ → 0 the terms plunge by orders of magnitude; frame the region around σ* instead.
    window = np.asarray(sigmas) >= star / 3
    values = np.concatenate([np.asarray(y)[window] for y in curves.values()])
    low, high = float(values.min()), float(values.max())
    pad = 0.08 * (high - low or 1.0)
    # Labels as annotations beside their lines: add_vline's own annotation lands at x = σ on the log axis, where
    # Plotly reads annotation x as log10(σ): at the chart's right edge, away from its line.
    fig.add_vline(x=current, line=dict(color="black", width=2))
    fig.add_vline(x=star, line=dict(color="crimson", dash="dash"))
    low_x, high_x = math.log10(min(sigmas)), math.log10(max(sigmas))
    right = (math.log10(current) - low_x) > 0.8 * (high_x - low_x)  # near the right edge: the label left of its line
    # σ's label low in the plot, a row above σ*'s: at the top it met the legend's row, which Plotly lowers onto the
    # plot after a resize from a narrower window (two rows of legend there)
    fig.add_annotation(x=math.log10(current), y=0, yref="paper", text=f"σ = {current:.3g}", showarrow=False,
                       xanchor="right" if right else "left", yanchor="bottom", xshift=-4 if right else 4, yshift=22)
    fig.add_annotation(x=math.log10(star), y=0, yref="paper", text=f"σ* = {star:.3g}", showarrow=False,
                       xanchor="left", yanchor="bottom", xshift=4, font=dict(color="crimson"))
    fig.update_layout(height=height, margin=dict(l=10, r=10, t=30, b=10), xaxis=log_axis(sigmas, "σ_dec", pad=1.0),
                      yaxis=dict(title=unit, range=[low - pad, high + pad]),
                      legend=dict(orientation="h", x=0, y=1.02, yanchor="bottom"))
    return fig


CURVES_SPEC = {
    "mark": {"type": "line", "strokeWidth": 1.5},
    "encoding": {"x": {"field": "step", "type": "quantitative"},
                 "y": {"field": "nats", "type": "quantitative", "scale": {"zero": False}, "title": "nats per image"},
                 "color": {"field": "term", "type": "nominal", "legend": None}},  # named in the caption (curve_panels)
    "height": 180,
}
CURVE_PANELS = (("elbo", "reconstruction"), ("kl",))  # the terms drawn in each chart
CURVE_NAMES = {"elbo": "ELBO", "reconstruction": "reconstruction", "kl": "KL"}
CURVE_COLOURS = {"elbo": (PALETTE[0], "blue"), "reconstruction": (PALETTE[1], "orange"), "kl": (PALETTE[2], "green")}


def curve_panels(history: list[dict]) -> list[tuple[str, dict]]:
    """(caption, Vega-Lite spec) for each chart of CURVE_PANELS. A chart of two lines names them by their colours
    in its caption: Streamlit fits a Vega chart's legend into its height, and a legend under these 180-px charts
    left their plots 30 px high with one tick."""
    panels = []
    for terms in CURVE_PANELS:
        names = [CURVE_NAMES[t] + (f" ({CURVE_COLOURS[t][1]})" if len(terms) > 1 else "") for t in terms]
        panels.append((f"{' and '.join(names)} against step", training_curves(history, terms)))
    return panels


def with_data(spec: dict, name: str, frame) -> dict:
    """A Vega-Lite spec for st.vega_lite_chart(spec=…) that carries its data as the named dataset `name`.

    Streamlit hands a named dataset to Vega with the spec, so the chart's first run already has its data (its
    unnamed `data` is inserted after a first run on nothing, which logs "Infinite extent" for every axis that
    Vega computes from the data); and while the spec stays the same from one redraw to the next, the browser
    only swaps the data instead of compiling and drawing a new chart."""
    return {**spec, "data": {"name": name}, "datasets": {name: frame}}


def training_curves(history: list[dict], terms=("elbo", "reconstruction", "kl"), max_points: int = 200) -> dict:
    """A Vega-Lite spec (with its data, see with_data) of `terms` against step, for one chart as wide as its column.

    A raw spec is ten times cheaper to send than st.line_chart; at most `max_points` points are drawn. The spec
    is the same from one redraw of the live panel to the next (the axes are the data's: the step axis from 0)
    once the history has three records; before, it is drawn with its points (one point makes no line) on a
    given value axis. (The two panels were once one faceted chart of fixed width, which ran under the chart beside
    it and hid the newest steps.)
    """
    import copy

    import pandas as pd

    frame = pd.DataFrame(history[:: -(-len(history) // max_points)] + history[-1:])  # ≤ max_points + the last
    long = frame.melt(id_vars="step", value_vars=list(terms), var_name="term", value_name="nats")
    spec = copy.deepcopy(CURVES_SPEC)
    spec["encoding"]["x"]["scale"] = {"domainMin": 0}  # from step 0 (a domain united with [0, 1] made Vega-Lite warn
    # of conflicting domains in the line and point layers of a short history)
    spec["encoding"]["y"]["scale"] = {"zero": False, "padding": 8}  # 8 px clear of the plot's edges
    spec["encoding"]["color"]["scale"] = {"domain": list(terms), "range": [CURVE_COLOURS[t][0] for t in terms]}
    if len(history) < 3:  # (a spec of its own until then)
        spec["mark"]["point"] = True
        low, high = float(long["nats"].min()), float(long["nats"].max())
        pad = 0.05 * (high - low) or 1.0  # one value is no extent: its axis read "10.000000"
        spec["encoding"]["y"]["scale"] = {"zero": False, "domain": [low - pad, high + pad]}
    return with_data(spec, "curves", long)


def kl_bars(kl_per_dim, height: int = 220) -> dict:
    """A Vega-Lite spec (with its data, see with_data): KL per latent dimension as bars in the order z1, z2, …, z10
    (not z1, z10, z2). The spec depends on the number of dimensions only."""
    import pandas as pd

    names = [f"z{i + 1}" for i in range(len(kl_per_dim))]
    frame = pd.DataFrame({"dimension": names, "KL": [float(v) for v in kl_per_dim]})
    spec = {"mark": {"type": "bar"}, "height": height,
            "encoding": {"x": {"field": "dimension", "type": "nominal", "sort": names, "title": None,
                               "axis": {"labelAngle": 0 if len(names) <= 16 else -90}},
                         "y": {"field": "KL", "type": "quantitative", "title": "nats", "stack": None,
                               "scale": {"domain": {"unionWith": [0, 1e-3]}}},  # an axis while every KL is 0
                         "tooltip": [{"field": "dimension"}, {"field": "KL", "format": ".3f"}]}}
    return with_data(spec, "kl", frame)


def class_scatter(coords: np.ndarray, labels: np.ndarray, classes, names, height: int = 300, ranges=None,
                  ticks=None) -> dict:
    """A Vega-Lite spec (with its data, see with_data): 2-D latent points coloured by class with the one palette
    (PALETTE) that the Plotly scatters use, classes in their own order in the legend; the axes are `ranges`, or
    hold 99.8 % of the points (extent), widened to a steady range (steady_range: the live page redraws this as the
    cloud moves). `ticks`: the values marked on both axes."""
    import pandas as pd

    classes = [str(c) for c in classes]
    frame = pd.DataFrame({"x": coords[:, 0], "y": coords[:, 1], "class": np.asarray(classes)[labels]})
    (x0, x1), (y0, y1) = ranges if ranges is not None else (steady_range(*span) for span in extent(coords))
    axis = {"values": list(ticks)} if ticks is not None else {}
    spec = {"mark": {"type": "point", "filled": True, "size": 18, "opacity": 0.7, "clip": True}, "height": height,
            "encoding": {"x": {"field": "x", "type": "quantitative", "title": names[0], "scale": {"domain": [x0, x1]},
                               "axis": axis},
                         "y": {"field": "y", "type": "quantitative", "title": names[1], "scale": {"domain": [y0, y1]},
                               "axis": axis},
                         "color": {"field": "class", "type": "nominal", "title": None,
                                   "scale": {"domain": classes, "range": [PALETTE[i % 10] for i in range(len(classes))]}},
                         "shape": {"field": "class", "type": "nominal", "title": None,  # the second cue (CLASS_SHAPES)
                                   "scale": {"domain": classes,
                                             "range": [CLASS_SHAPES[i % 10] for i in range(len(classes))]}}}}
    return with_data(spec, "latents", frame)


def _ellipse(mu, sigma, k: float, n: int = 90) -> tuple[np.ndarray, np.ndarray]:
    t = np.linspace(0, 2 * np.pi, n)
    return mu[0] + k * sigma[0] * np.cos(t), mu[1] + k * sigma[1] * np.sin(t)


def posterior_contours(xs: np.ndarray, ys: np.ndarray, log_posterior: np.ndarray, mu: np.ndarray,
                       sigma: np.ndarray, posterior_mean: np.ndarray, zoom=None, height: int = 480,
                       optimal=None) -> go.Figure:
    """p(z|x) as filled contours (its density, on the grid) with q(z|x)'s 1σ and 2σ ellipses on top.

    `zoom` = (xs, ys, log p(z|x)) on q's own grid: drawn as a second panel zoomed onto q, for when q is too
    small to see in the first (a large σ_dec spreads the posterior far wider than q).
    `optimal` = (μ*, σ*): the best diagonal Gaussian q* for this image alone, drawn too (green, dotted and dash-dotted
    ellipses, a diamond at μ*), and q's entries are named q_φ's, the encoder's.
    """
    panels = [(xs, ys, log_posterior, "x", "y")] + ([(*zoom, "x2", "y2")] if zoom is not None else [])
    fig = go.Figure()
    peak = float(log_posterior.max())
    for panel, (px, py, log_p, xref, yref) in enumerate(panels):
        first = panel == 0
        density = np.exp(log_p - (peak if first else float(log_p.max())))
        fig.add_trace(go.Contour(x=px, y=py, z=density, colorscale="Blues", showscale=False, xaxis=xref, yaxis=yref,
                                 contours=dict(start=0.02, end=1.0, size=0.08), line=dict(width=0.5), name="p(z|x)",
                                 hovertemplate="z = (%{x:.3f}, %{y:.3f})<br>p(z|x) / max = %{z:.2f}<extra></extra>"))
        q_name = "q(z|x)" if optimal is None else "q_φ(z|x), the encoder's"
        for k, dash in ((1, "solid"), (2, "dash")):
            ex, ey = _ellipse(mu, sigma, k)
            fig.add_trace(go.Scatter(x=ex, y=ey, mode="lines", name=f"{q_name}, {k}σ", xaxis=xref, yaxis=yref,
                                     showlegend=first, legendgroup=f"q{k}",
                                     line=dict(color="crimson", width=2, dash=dash)))
        fig.add_trace(go.Scatter(x=[mu[0]], y=[mu[1]], mode="markers", name="μ of q" if optimal is None else "μ_φ",
                                 xaxis=xref, yaxis=yref, showlegend=first, legendgroup="mu",
                                 marker=dict(color="crimson", size=9 if first else 7, symbol="x")))
        if optimal is not None:
            best_mu, best_sigma = optimal
            for k, dash in ((1, "dot"), (2, "dashdot")):
                ex, ey = _ellipse(best_mu, best_sigma, k)
                fig.add_trace(go.Scatter(x=ex, y=ey, mode="lines", name=f"q*, the best for this image, {k}σ",
                                         xaxis=xref, yaxis=yref, showlegend=first, legendgroup=f"best{k}",
                                         line=dict(color=OPTIMAL_COLOUR, width=2.5, dash=dash)))
            fig.add_trace(go.Scatter(x=[best_mu[0]], y=[best_mu[1]], mode="markers", name="μ*", xaxis=xref,
                                     yaxis=yref, showlegend=first, legendgroup="best_mu",
                                     marker=dict(color=OPTIMAL_COLOUR, size=9 if first else 7, symbol="diamond")))
        fig.add_trace(go.Scatter(x=[posterior_mean[0]], y=[posterior_mean[1]], mode="markers", name="E[z|x] (true)",
                                 xaxis=xref, yaxis=yref, showlegend=first, legendgroup="mean",
                                 marker=dict(color="navy", size=10, symbol="circle-open", line=dict(width=2))))
    split = 0.6 if zoom is not None else 1.0
    fig.update_layout(height=height, margin=dict(l=10, r=10, t=40, b=10),
                      legend=dict(orientation="h", y=1.02, yanchor="bottom", x=0),
                      xaxis=dict(title="z₁", range=[xs[0], xs[-1]], domain=[0, split]),
                      yaxis=dict(title="z₂", range=[ys[0], ys[-1]], scaleanchor="x", scaleratio=1))
    if zoom is not None:
        zx, zy = zoom[0], zoom[1]
        fig.update_layout(xaxis2=dict(title="z₁ (zoomed onto q)", range=[zx[0], zx[-1]], domain=[split + 0.08, 1],
                                      anchor="y2"),
                          yaxis2=dict(range=[zy[0], zy[-1]], anchor="x2", scaleanchor="x2", scaleratio=1))
    return fig


OPTIMAL_COLOUR = "#1a7f37"  # q*'s ellipses: a green apart from q_φ's crimson and the posterior's blues


def q_is_small(xs: np.ndarray, ys: np.ndarray, sigma: np.ndarray, share: float = 0.15) -> bool:
    """Whether q's ±2σ box spans less than `share` of the window (then the figure adds a panel zoomed onto q)."""
    return 4 * sigma[0] < share * (xs[-1] - xs[0]) and 4 * sigma[1] < share * (ys[-1] - ys[0])


def gap_against_sigma(sigmas, gaps, trained: float, current: float, height: int = 300) -> go.Figure:
    """The ELBO's gap KL(q ‖ p(z|x)) against σ_dec (log–log), the σ_dec the model was trained at and the current
    one marked."""
    fig = go.Figure(go.Scatter(x=sigmas, y=gaps, mode="lines+markers", name="KL(q ‖ p(z|x))",
                               hovertemplate="σ_dec = %{x:g}<br>gap = %{y:.3f} nats<extra></extra>"))
    fig.add_vline(x=trained, line=dict(color="crimson", dash="dash"))
    fig.add_vline(x=current, line=dict(color="black", width=1))
    fig.add_annotation(x=math.log10(trained), y=1, yref="paper", text=f"trained at σ = {trained:g}", showarrow=False,
                       xanchor="left", yanchor="top", xshift=4, font=dict(color="crimson"))
    fig.update_layout(height=height, margin=dict(l=10, r=10, t=30, b=10), showlegend=False,
                      xaxis=log_axis(sigmas, "σ_dec"), yaxis=log_axis(gaps, "gap log p(x) − ELBO, nats"))
    return fig


def spread_against_samples(spread: dict[int, tuple[float, float]], current: int, height: int = 340) -> go.Figure:
    """The Monte-Carlo estimate's standard deviation against L (log–log) with its standard error as error bars,
    and the 1/√L line through L = 1."""
    sizes = np.array(sorted(spread), dtype=np.float64)
    values = np.array([spread[int(s)][0] for s in sizes])
    errors = np.array([spread[int(s)][1] for s in sizes])
    fig = go.Figure([go.Scatter(x=sizes, y=values, mode="lines+markers", name="spread ± its s.e.",
                                error_y=dict(type="data", array=errors, visible=True)),
                     go.Scatter(x=sizes, y=values[0] / np.sqrt(sizes / sizes[0]), mode="lines", name="∝ 1/√L",
                                line=dict(dash="dash", color="grey"))])
    fig.add_vline(x=current, line=dict(color="black", width=1))
    fig.update_layout(height=height, margin=dict(l=10, r=10, t=30, b=10), legend=dict(orientation="h", y=1.1),
                      xaxis=log_axis(sizes, "L, samples of ε", ticks=sizes),
                      yaxis=log_axis(np.concatenate([values - errors, values + errors, values[0] / np.sqrt(sizes)]),
                                     "std of (1/L) Σ log p(x|z⁽ˡ⁾), nats", pad=1.3))
    return fig


SWEEP_PANELS = {"reconstruction": "reconstruction E_q[log p(x|z)], nats", "distortion": "distortion E‖x − x̂‖²",
                "kl": "KL(q ‖ p(z)), nats"}


def sweep_term(values, name: str, series: tuple[list, list], current: float, collapse: float | None,
               height: int = 320) -> go.Figure:
    """One term against the σ_dec each model was trained at (log x): the test set's stored figures and one image's
    (`series`), the axis titled by SWEEP_PANELS, the current σ and the collapse marked. One figure a term (they were
    three panels of one figure, 100 px each at a phone's width): the page lays them out side by side or stacked."""
    test, mine = series
    fig = go.Figure([go.Scatter(x=values, y=test, mode="lines+markers", name="test set", line=dict(color="#1f77b4")),
                     go.Scatter(x=values, y=mine, mode="lines+markers", name="this image", marker_symbol="diamond",
                                line=dict(color="#ff7f0e", dash="dot"))])
    fig.add_vline(x=current, line=dict(color="black", width=2))
    if collapse is not None:
        fig.add_vline(x=collapse, line=dict(color="crimson", dash="dash"))
        fig.add_annotation(x=math.log10(collapse), y=1, yref="paper", text="collapse", showarrow=False,
                           xanchor="right", yanchor="top", xshift=-3, font=dict(color="crimson", size=12))
    fig.update_layout(height=height, margin=dict(l=10, r=10, t=40, b=10), xaxis=log_axis(values, "σ_dec trained at"),
                      yaxis=dict(title=SWEEP_PANELS[name]), legend=dict(orientation="h", x=0, y=1.02, yanchor="bottom"))
    return fig


LABEL_POSITIONS = ("top right", "top left", "bottom right", "bottom left")


def place_labels(xs, ys, labels, x_range, y_range, size_px=(340, 380), char_px=7.5, line_px=15) -> list[str]:
    """A Plotly `textposition` per point such that no label covers another label or a point, in a plot of (at
    least) `size_px` = (width, height) pixels: each point takes the first free place of LABEL_POSITIONS."""
    width, height = size_px
    to_px = lambda x, y: ((x - x_range[0]) / (x_range[1] - x_range[0]) * width,  # noqa: E731
                          (y_range[1] - y) / (y_range[1] - y_range[0]) * height)
    points = [to_px(x, y) for x, y in zip(xs, ys)]
    placed, positions = [], []
    for i, ((px, py), label) in enumerate(zip(points, labels)):
        w, h = char_px * len(label) + 4, line_px
        others = points[:i] + points[i + 1:]
        for position in LABEL_POSITIONS + (None,):
            if position is None:  # nowhere is free: the first choice
                position = LABEL_POSITIONS[0]
                break
            vertical, horizontal = position.split()
            x0 = px + 4 if horizontal == "right" else px - 4 - w
            y0 = py - 4 - h if vertical == "top" else py + 4
            box = (x0, y0, x0 + w, y0 + h)
            gap = 4  # px between labels: Plotly sets a label off a larger (selected) marker by a little more
            clear = all(box[2] + gap < b[0] or b[2] + gap < box[0] or box[3] + gap < b[1] or b[3] + gap < box[1]
                        for b in placed)
            clear &= all(not (box[0] - 5 < qx < box[2] + 5 and box[1] - 5 < qy < box[3] + 5) for qx, qy in others)
            if clear and 0 <= box[0] and box[2] <= width and 0 <= box[1] and box[3] <= height:
                break
        vertical, horizontal = position.split()
        x0 = px + 4 if horizontal == "right" else px - 4 - w
        y0 = py - 4 - h if vertical == "top" else py + 4
        placed.append((x0, y0, x0 + w, y0 + h))
        positions.append(position)
    return positions


def rate_distortion(points: list[dict], parameter: str, selected: str | None = None, collapse: float | None = None,
                    height: int = 420) -> go.Figure:
    """Rate (KL, nats) against distortion (E‖x − x̂‖²), one labelled point per model; collapsed models hollow."""
    symbol = "σ" if parameter == "sigma_dec" else "β"
    rate = [p["rate"] for p in points]
    distortion = [p["distortion"] for p in points]
    active = [p["active_dims"] for p in points]
    labels = [f"{symbol}={p['value']:g}" for p in points]
    x_span, top = max(distortion) - min(distortion) or 1.0, max(rate) or 1.0
    x_range = [min(distortion) - 0.04 * x_span, max(distortion) + 0.12 * x_span]
    y_range = [-0.24 * top, 1.08 * top]
    fig = go.Figure(go.Scatter(
        x=distortion, y=rate, mode="lines+markers+text", text=labels,
        textposition=place_labels(distortion, rate, labels, x_range, y_range, size_px=(240, height - 150)),
        customdata=[[i] for i in range(len(points))], name="models",
        marker=dict(size=[14 if p["name"] == selected else 9 for p in points],
                    color=["white" if a == 0 else "#1f77b4" for a in active],
                    line=dict(color="#1f77b4", width=2)),
        hovertemplate="%{text}<br>distortion %{x:.2f}<br>rate %{y:.2f} nats<br>active units %{meta}<extra></extra>",
        meta=active))
    # Room for the labels at the right and for the collapse note under the points at rate 0 (an arrow from above
    # lay across the "σ=2" label, and the last label was cut at the right edge); labels placed clear of each other.
    if collapse is not None:
        fig.add_annotation(x=distortion[[p["value"] for p in points].index(collapse)], y=0, text="posterior collapse",
                           showarrow=True, arrowhead=2, ax=0, ay=28, yanchor="top", xanchor="right")  # the
        # rightmost point: text centred under it ran past the chart's edge at a phone's width ("posterior collaps")
    fig.update_layout(height=height, margin=dict(l=10, r=10, t=30, b=10), showlegend=False,
                      xaxis=dict(title="distortion E‖x − x̂‖² (test)", range=x_range),
                      yaxis=dict(title="rate KL(q‖p) in nats (test)", range=y_range))
    return fig


def active_units(points: list[dict], parameter: str, latent_dim: int, height: int = 260) -> go.Figure:
    """Active latent units (KL > 0.01 nats) against the swept value (log axis)."""
    fig = go.Figure(go.Scatter(x=[p["value"] for p in points], y=[p["active_dims"] for p in points],
                               mode="lines+markers", name="active units"))
    fig.update_layout(height=height, margin=dict(l=10, r=10, t=30, b=10),
                      xaxis=log_axis([p["value"] for p in points], "σ_dec" if parameter == "sigma_dec" else "β"),
                      yaxis=dict(title="active units", range=[-0.5, latent_dim + 0.5]))
    return fig


def colour_bar_ticks(values, gap: float = 0.12) -> tuple[list[float], tuple[float, float]]:
    """Labels for a log colour bar over positive `values`, and its range (cmin, cmax) in log10: the lowest and highest
    value labelled at the bar's ends, round values (log_ticks) between them where they keep `gap` of the bar's length
    from every other label. One value: one label, in the middle of a bar one decade long."""
    low, high = float(np.min(values)), float(np.max(values))
    span = math.log10(high) - math.log10(low)
    if span < 1e-9:
        return [low], (math.log10(low) - 0.5, math.log10(low) + 0.5)
    ticks = [low, high]
    for tick in log_ticks(low, high):
        if all(abs(math.log10(tick) - math.log10(t)) >= gap * span for t in ticks):
            ticks.append(tick)
    return sorted(ticks), (math.log10(low), math.log10(high))


def class_board(rows: list[dict], reference: list[dict], colour: str = "σ_dec", height: int = 440) -> go.Figure:
    """A class's entries on the rate–distortion plane (distortion across, rate up), coloured by σ_dec or β on a log
    scale, over the shipped sweep's curve (grey) as the reference. Hover names the entry by its number only: the
    students' names are in the table, as plain text, never in the chart's markup."""
    key = "beta" if colour == "β" else "sigma_dec"
    fig = go.Figure()
    if reference:
        fig.add_trace(go.Scatter(x=[p["distortion"] for p in reference], y=[p["rate"] for p in reference],
                                 mode="lines+markers", name="the shipped sweep over σ_dec", text=[f"{p['value']:g}" for p in reference],
                                 line=dict(color="#bbbbbb", dash="dot"), marker=dict(color="#bbbbbb", size=6),
                                 hovertemplate="shipped sweep, σ_dec = %{text}<br>distortion %{x:.2f}<br>rate %{y:.2f} nats"
                                               "<extra></extra>"))
    values = np.array([row[key] if row[key] else np.nan for row in rows], dtype=np.float64)
    known = values[np.isfinite(values) & (values > 0)]
    ticks, (cmin, cmax) = colour_bar_ticks(known) if known.size else ([], (None, None))
    fig.add_trace(go.Scatter(
        x=[row["distortion"] for row in rows], y=[row["rate"] for row in rows], mode="markers", name="class entries",
        customdata=np.stack([[row["entry"] for row in rows], values], 1) if rows else None,
        hovertemplate=f"entry #%{{customdata[0]}}<br>{colour} = %{{customdata[1]:.3g}}<br>distortion %{{x:.2f}}"
                      "<br>rate %{y:.2f} nats<extra></extra>",
        marker=dict(size=12, line=dict(color="black", width=1), color=np.log10(values), colorscale="Viridis",
                    cmin=cmin, cmax=cmax, colorbar=dict(title=colour, tickvals=[math.log10(t) for t in ticks],
                                                        ticktext=[f"{float(f'{t:.3g}'):g}" for t in ticks]))))
    fig.update_layout(height=height, margin=dict(l=10, r=10, t=30, b=10),
                      legend=dict(orientation="h", y=1.02, yanchor="bottom", x=0),
                      xaxis=dict(title="distortion E‖x − x̂‖² (test)"), yaxis=dict(title="rate KL(q‖p) in nats (test)"))
    return fig


def prediction_bars(options, rounds: dict[str, dict[str, int]], question: str, height: int = 220) -> go.Figure:
    """How many of the class voted each option of a question, one bar per round ({"vote 1": {option: n}, …}: side
    by side, the second hatched as well as coloured; horizontal, the options in their order). The question is
    written by the app; the answers are its own options: no student text is drawn."""
    fig = go.Figure([go.Bar(x=[counts.get(o, 0) for o in options], y=list(options), orientation="h", name=name,
                            text=[counts.get(o, 0) for o in options], textposition="outside", cliponaxis=False,
                            marker=dict(color=PALETTE[n], pattern_shape=("", "/")[n % 2]))
                     for n, (name, counts) in enumerate(rounds.items())])
    fig.update_layout(height=height, margin=dict(l=10, r=30, t=40, b=10), title=dict(text=question, font=dict(size=13)),
                      yaxis=dict(type="category", autorange="reversed"),  # "0" and "1" are answers, not numbers
                      xaxis=dict(title="students", dtick=1, rangemode="tozero"), barmode="group",
                      showlegend=len(rounds) > 1, legend=dict(orientation="h", y=-0.3, traceorder="normal"))
    return fig


GAP_NAMES = {"approximation": "approximation gap", "amortisation": "amortisation gap"}
GAP_COLOURS = {"approximation": PALETTE[0], "amortisation": PALETTE[3]}  # the two gaps' lines (not classes)


def gaps_by_class(values: dict[str, list[float]], labels, classes, height: int = 360) -> go.Figure:
    """Each gap's distribution by class, one panel per gap ({"approximation": [...], "amortisation": [...]} per image,
    `labels` their classes): boxes in the classes' palette (PALETTE, as on every page), their points' shapes the
    classes' markers (CLASS_SYMBOL_NAMES); a panel whose values are all positive on a log axis."""
    from plotly.subplots import make_subplots

    names = list(values)
    labels = np.asarray(labels)
    fig = make_subplots(rows=1, cols=len(names), subplot_titles=[GAP_NAMES.get(n, n) for n in names],
                        horizontal_spacing=0.08)
    for col, name in enumerate(names, start=1):
        column = np.asarray(values[name], dtype=float)
        for c, label in enumerate(classes):
            chosen = column[labels == c]
            if not len(chosen):
                continue
            fig.add_trace(go.Box(y=chosen, name=str(label), marker=dict(color=PALETTE[c % 10],
                                                                         symbol=CLASS_SYMBOL_NAMES[c % 10], size=4),
                                 boxpoints="outliers", showlegend=False, legendgroup=str(label),
                                 hovertemplate=f"{label}<br>%{{y:.3f}} nats<extra></extra>"), row=1, col=col)
        positive = bool(np.all(column > 0))  # a gap spread over orders of magnitude reads on a log axis; one at or
        # below 0 (a Monte-Carlo or IWAE estimate near 0) keeps a linear one
        fig.update_yaxes(title_text="nats" + (" (log axis)" if positive else ""), type="log" if positive else "linear",
                         dtick=1 if positive else None,
                         row=1, col=col)
    fig.update_layout(height=height, margin=dict(l=10, r=10, t=40, b=10))
    return fig


GAP_FLOOR = 1e-3  # nats: on the log axis of the gaps against σ_dec, a smaller value (a collapsed model's) sits here


def gaps_against_sigma(points: list[dict], current: float | None = None, height: int = 340) -> go.Figure:
    """The two gaps against σ_dec, both axes logarithmic (the gaps run from hundreds of nats to nothing), over a
    sweep's members: each member's mean (points = [{"sigma_dec", "approximation": {"mean", "q25", "q75"},
    "amortisation": {…}}]) with its interquartile range as error bars, values below GAP_FLOOR drawn at it; the
    chosen model's σ_dec marked when it is one of them."""
    sigmas = [p["sigma_dec"] for p in points]
    fig = go.Figure()
    for name, colour in GAP_COLOURS.items():
        mean = np.maximum(np.array([p[name]["mean"] for p in points]), GAP_FLOOR)
        low = np.maximum(np.array([p[name]["q25"] for p in points]), GAP_FLOOR)
        high = np.maximum(np.array([p[name]["q75"] for p in points]), GAP_FLOOR)
        fig.add_trace(go.Scatter(x=sigmas, y=mean, mode="lines+markers", name=f"{GAP_NAMES[name]}, mean",
                                 line=dict(color=colour, dash="solid" if name == "approximation" else "dash"),
                                 marker=dict(symbol="circle" if name == "approximation" else "square", size=8),
                                 error_y=dict(type="data", symmetric=False, array=np.maximum(high - mean, 0),
                                              arrayminus=np.maximum(mean - low, 0), thickness=1),
                                 hovertemplate="σ_dec = %{x:g}<br>mean %{y:.2f} nats<extra></extra>"))
    if current is not None and any(math.isclose(current, s, rel_tol=1e-6) for s in sigmas):
        fig.add_vline(x=current, line=dict(color="black", width=1))
    fig.update_layout(height=height, margin=dict(l=10, r=10, t=30, b=10),
                      legend=dict(orientation="h", y=1.02, yanchor="bottom", x=0),
                      xaxis=log_axis(sigmas, "σ_dec (log axis)"),
                      yaxis=dict(title="gap, nats (log axis)", type="log", dtick=1))
    return fig


def refinement_curve(steps: list[int], series: dict[str, list[float]], height: int = 320) -> go.Figure:
    """The ELBO gained by K steps of the ascent from q_φ, against K (a category axis: K = 0 has no place on a log
    one), one line per series ({"this image": gains, "test-set mean": gains})."""
    labels = [str(k) for k in steps]
    fig = go.Figure()
    for n, (name, gains) in enumerate(series.items()):
        fig.add_trace(go.Scatter(x=labels, y=gains, mode="lines+markers", name=name,
                                 line=dict(color=PALETTE[n], dash=("solid", "dash")[n % 2]),
                                 marker=dict(symbol=("circle", "square")[n % 2], size=8),
                                 hovertemplate="K = %{x}<br>gained %{y:.3f} nats<extra></extra>"))
    fig.update_layout(height=height, margin=dict(l=10, r=10, t=30, b=10), showlegend=True,  # one line too: the
                      legend=dict(orientation="h", y=1.02, yanchor="bottom", x=0),  # title is the legend's (charts)
                      xaxis=dict(title="K, steps of the ascent from q_φ", type="category"),
                      yaxis=dict(title="ELBO gained, nats"))
    return fig
