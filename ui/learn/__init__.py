"""The guided path through the tutorial: its steps in the tutorial's order, and what every step shares.

Each step (ui/learn/steps.py) shows the tutorial's equation with this image's numbers substituted, each computed by
the one function of vae/ that owns the equation; a compact live view; one thing to try; and a question to answer
before trying, whose answer is then revealed from the model's own numbers (ui/learn/questions.py).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import streamlit as st

from ui import store
from vae.data import DATASETS

STEP = "learn_step"


@dataclass
class Context:
    """What a step works on: the chosen model and one image (a test image or the student's drawing)."""

    info: object  # catalog.CheckpointInfo
    model: object  # vae.VAE, eval mode
    x: np.ndarray  # [H, W] floats in [0, 1]
    image_name: str  # "test #3" or "your drawing"
    index: int | None  # the test image's index (None for a drawing)

    @property
    def config(self):
        return self.info.config

    @property
    def noun(self) -> str:
        return DATASETS[self.config.dataset].noun

    @property
    def tensor(self):
        import torch

        return torch.from_numpy(np.asarray(self.x, dtype=np.float32)).reshape(1, -1)


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
        return Context(info, model, np.asarray(drawing, dtype=np.float32), "your drawing", None)
    return Context(info, model, test.images[index].numpy() / 255.0, f"test #{index}", index)


def vector(values, shown: int = 4, digits: int = 2) -> str:
    """A short LaTeX vector: (0.12, −1.30, …)."""
    values = [float(v) for v in np.ravel(values)]
    parts = [f"{v:.{digits}f}" for v in values[:shown]] + (["\\ldots"] if len(values) > shown else [])
    return "(" + ",\\ ".join(parts).replace("-", "{-}") + ")"


def number(value: float, digits: int = 2) -> str:
    """A number for LaTeX, with a proper minus sign."""
    return f"{value:.{digits}f}".replace("-", "{-}")
