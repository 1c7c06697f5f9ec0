"""A teacher's lesson being stepped through: a step's page opened as `…?lesson=CODE&lesson_step=K` shows the
lesson's title, where the student is in it, the step's note, and Back / Next to the neighbouring steps' links."""
from __future__ import annotations

import html

import streamlit as st

from classroom import lessons
from ui import store, text


def step_url(lesson, k: int) -> str:
    """Step k (1-based) of `lesson`: its link, with the lesson's own parameters added."""
    link = lesson.steps[k - 1]["link"]
    return f"{link}{'&' if '?' in link else '?'}lesson={lesson.code}&lesson_step={k}"


def anchor(url: str, label: str) -> str:
    """A link that opens `url` in this tab (the step's view, as a fresh page with the link's settings)."""
    return f'<a href="{html.escape(url)}" target="_self">{html.escape(label)}</a>'


def draw() -> None:
    params = st.query_params
    code, step = params.get("lesson"), params.get("lesson_step")
    if not code or not step:
        return
    lesson = lessons.find(store.database(), code)
    if lesson is None or not step.isdigit() or not 1 <= int(step) <= len(lesson.steps):
        st.toast("Ignored `lesson` in the link: no such lesson or step", icon=":material/link_off:")
        return
    k, n = int(step), len(lesson.steps)
    with st.container(border=True, key="lesson_bar"):
        st.caption(f"Lesson: {text.plain(lesson.title)} · step {k} of {n}")
        st.progress(k / n)
        st.markdown(text.plain(lesson.steps[k - 1]["note"]))
        moves = [anchor(step_url(lesson, k - 1), "← Back")] if k > 1 else []
        moves += [anchor(step_url(lesson, k + 1), "Next →")] if k < n else []
        moves += [anchor(f"/lesson?lesson={lesson.code}", "All steps")]
        st.markdown(" · ".join(moves), unsafe_allow_html=True)
