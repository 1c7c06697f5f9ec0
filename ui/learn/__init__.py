"""The guided path through the tutorial: its steps in the tutorial's order, and what every step shares.

Each step (one module of ui/learn/steps/) shows the tutorial's equation with this image's numbers substituted, each
computed by the one function of vae/ that owns the equation; a compact live view; one thing to try; and a question
to answer before its answer can be seen, revealed from the model's own numbers (ui/learn/questions.py).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np
import streamlit as st

from ui import images, store
from vae.data import DATASETS

STEP = "learn_step"
EPS_SEED = 0  # the draws ε of the steps' Monte-Carlo estimates


@dataclass(frozen=True)
class Step:
    key: str
    title: str
    draw: Callable  # (Context) -> None
    question: object = None  # questions.Question, asked by `draw`


@dataclass
class Context:
    """What a step works on: the chosen model and one image (a test image or the student's drawing)."""

    info: object  # catalog.CheckpointInfo
    model: object  # vae.VAE, eval mode
    x: np.ndarray  # [H, W] floats in [0, 1] (binary for a model trained on binarised images)
    image_name: str  # "test #3" or "your drawing"
    index: int | None  # the test image's index (None for a drawing)
    label: str | None = None  # the test image's class ("7", "Sneaker")

    @property
    def config(self):
        return self.info.config

    @property
    def noun(self) -> str:
        return DATASETS[self.config.dataset].noun

    @property
    def view(self) -> tuple:
        """What a prediction is made on: the model and the image."""
        return self.info.name, self.image_name, self.x.tobytes() if self.index is None else self.index

    @property
    def described(self) -> str:
        """The image in words, for a picture's text alternative: 'test #3 of MNIST, a 7'."""
        return self.image_name + (f", a {self.label}" if self.label else "")

    @property
    def tensor(self):
        import torch

        return torch.from_numpy(np.asarray(self.x, dtype=np.float32)).reshape(1, -1)


def binarised(x: np.ndarray, index: int | None, dataset: str) -> np.ndarray:
    """The image as a model trained on binarised images is scored: test image `index` as the fixed binarisation of
    the test set (vae.evaluate.binarize_fixed, seed 0) has it, a drawing binarised with the same seed."""
    import torch

    from vae.evaluate import binarize_fixed

    if index is not None:
        return store.binarised_test(dataset)[index].reshape(np.shape(x))
    return binarize_fixed(torch.from_numpy(np.asarray(x, dtype=np.float32))).numpy()


def context(info) -> Context:
    """The image chooser (a test image, or the drawing from the Draw page) and the model, for every step."""
    state = st.session_state
    test, _ = store.dataset(info.config.dataset, "test")
    drawing = state.get("draw_framed")
    noun = DATASETS[info.config.dataset].noun
    columns = st.columns([1, 1, 2])
    sources = [f"a test {noun}"] + (["your drawing"] if drawing is not None else [])
    source = columns[0].radio("Image", sources, key="learn_source", horizontal=True)
    index = int(columns[1].number_input(f"Test {noun}", 0, len(test) - 1, 0, key="learn_index", bind="query-params",
                                        persist_state="session", disabled=source != sources[0]))
    model = store.load_model(info).model
    if source == "your drawing":
        ctx = Context(info, model, np.asarray(drawing, dtype=np.float32), "your drawing", None)
    else:
        label = DATASETS[info.config.dataset].classes[int(test.labels[index])]
        ctx = Context(info, model, test.images[index].numpy() / 255.0, f"test #{index}", index, label)
    if info.config.likelihood == "bernoulli" and info.config.binarize:
        ctx.x = binarised(ctx.x, ctx.index, info.config.dataset)
        ctx.image_name += ", binarised"
        columns[2].caption("This model was trained on binarised images (each pixel black or white, drawn with "
                           "its grey level as the chance of white): the path scores the image binarised so.")
    return ctx


def vector(values, shown: int = 4, digits: int = 2) -> str:
    """A short LaTeX vector: (0.12, −1.30, …)."""
    values = [float(v) for v in np.ravel(values)]
    parts = [f"{v:.{digits}f}" for v in values[:shown]] + (["\\ldots"] if len(values) > shown else [])
    return "(" + ",\\ ".join(parts).replace("-", "{-}") + ")"


def number(value: float, digits: int = 2) -> str:
    """A number for LaTeX, with a proper minus sign."""
    return f"{value:.{digits}f}".replace("-", "{-}")


def plus_minus(value: float, error: float, digits: int = 2) -> str:
    """'143.44 \\pm 0.12' for LaTeX: an estimate and its standard error."""
    return rf"{number(value, digits)} \pm {error:.{digits}f}"


def equation(*rows: str) -> None:
    """Rows of one equation, aligned at their '&' and each on a line of its own, so that a phone's column holds
    them: a long equation on one line scrolled sideways and hid its numbers. KaTeX's aligned rows end in a −2 px
    margin (.vlist-t2), so a centred equation is sized 2 px narrower than it draws and scrolls by 2 px: a scrolling
    region the keyboard cannot reach (axe: scrollable-region-focusable); the style pads it back."""
    st.html("<style>.katex-display > .katex { padding-right: 2px; }</style>")
    st.latex(r"\begin{aligned}" + r" \\ ".join(rows) + r"\end{aligned}")


def picture(column, image, caption: str, alt: str, scale: int = 4) -> None:
    """A 28×28 image enlarged `scale` times, with its caption and a text alternative."""
    images.show(images.enlarge(images.to_uint8(np.asarray(image).reshape(28, 28)), scale), alt, caption=caption,
                container=column, width=28 * scale)
