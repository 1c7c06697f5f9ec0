"""Plotly charts on a page: each titled with what it shows, so a downloaded picture says it too.

Plotly's camera button saves the figure at its layout's size: 940×340 with no title, model or image, and a
legend cut off at the right. `show` titles the figure (model, image, σ_dec, …), leaves room for the title
above the legend, and downloads it 1200 px wide at twice the resolution.
"""
from __future__ import annotations

import html
import re

import streamlit as st

DOWNLOAD_WIDTH = 1200
TITLE_ROOM = 26  # px above the plot (and above a legend placed there) for a line of the title
WRAP_AT = 36  # a title longer than this (characters) breaks at its " · " separators


def slug(text: str) -> str:
    """A file name from a title: 'mnist-2d-sigma0.3 · σ_dec = 0.3' → 'mnist-2d-sigma0.3-dec-0.3'."""
    return re.sub(r"[^A-Za-z0-9.]+", "-", text).strip("-")[:80] or "figure"


def halved(part: str) -> str:
    """A part of a title longer than WRAP_AT broken at the space nearest its middle (it still ran past a column of
    300 px: "L = 8 samples of z = μ + σ ⊙ ε (seed 0)")."""
    if len(part) <= WRAP_AT or " " not in part:
        return part
    spaces = [i for i, c in enumerate(part) if c == " "]
    cut = min(spaces, key=lambda i: abs(i - len(part) / 2))
    return part[:cut] + "<br>" + part[cut + 1:]


def titled(fig, about: str):
    """`fig` with `about` as its title, as plain text (Plotly reads <b>, <a …> in a title). Above a horizontal legend
    over the plot, the title is the legend's own (side "top"): the legend may wrap onto a second row in a narrow
    column, and it grows into a title above it."""
    # A title does not wrap by itself: at a phone's width a long one ran past the chart, and as a legend's title it
    # widened the legend until its entries were cut at the chart's edge ("test b"). Its parts go on lines of their own.
    about = html.escape(about, quote=False)
    if len(about) > WRAP_AT:
        about = " ·<br>".join(halved(part) for part in about.split(" · "))
    legend = fig.layout.legend
    if legend.orientation == "h" and (legend.y or 0) >= 1:
        fig.update_layout(legend_title=dict(text=about, side="top", font=dict(size=13)))  # "top left" set the entries
        # to the right of the title's first line: past a phone's column
        return fig
    margin = fig.layout.margin
    lines = about.count("<br>") + 1  # Plotly sets a title of several lines 9 px higher: 10 px more pad keeps it in
    extra = 17 * (lines - 1) + (10 if lines > 1 else 0)
    top = (margin.t if margin and margin.t is not None else 30) + TITLE_ROOM + extra
    fig.update_layout(title=dict(text=about, x=0, xref="paper", xanchor="left", y=1, yref="container",
                                 yanchor="top", pad=dict(t=6 + (10 if lines > 1 else 0)), font=dict(size=13)),
                      margin=dict(t=top))
    return fig


def show(fig, about: str, key: str, *, alt: str, container=st, config: dict | None = None, **kwargs):
    """st.plotly_chart of `fig` titled `about`, whose camera button saves it DOWNLOAD_WIDTH px wide, named after it.

    `alt` is the chart's text alternative (WCAG 1.1.1), the accessible name of its frame: what it shows and its key
    numbers, in a sentence or two ("The ELBO's three terms against σ_dec from 0.01 to 2: …"); required, not empty."""
    if not alt or not alt.strip():
        raise ValueError(f"the chart {about!r} needs a text alternative (alt)")
    height = fig.layout.height or 450
    config = dict(config or {}, toImageButtonOptions=dict(format="png", filename=slug(about), width=DOWNLOAD_WIDTH,
                                                          height=int(height), scale=2))
    return container.plotly_chart(titled(fig, about), key=key, config=config, alt=alt, **kwargs)
