"""Lessons: a teacher's ordered list of links, each with a note, shared as one link; students step through it."""
import streamlit as st

from classroom import Refused, classes, lessons
from ui import identity, links, sidebar, store, text

sidebar.chosen_model(required=False)
st.header("Lessons")
engine = store.database()
me = identity.current()
state = st.session_state
code = st.query_params.get("lesson")


def show(lesson) -> None:
    """A lesson's steps, and where to start."""
    st.subheader(text.plain(lesson.title))
    st.markdown(links.anchor(links.step_url(lesson, 1), "Start the lesson →"), unsafe_allow_html=True)
    for k, step in enumerate(lesson.steps, 1):
        st.markdown(f"{k}\\. " + links.anchor(links.step_url(lesson, k), links.page_title(step["link"]))
                    + " — " + text.plain(step["note"]), unsafe_allow_html=True)
    st.caption("Each step opens its view as the teacher shared it; a bar above the page says where you are, with "
               "Back and Next.")


if code:
    found = lessons.find(engine, code)
    if found is None:
        st.error("No lesson has that code.")
    else:
        show(found)
    st.stop()

mine = lessons.by_owner(engine, me)
if mine:
    st.subheader("Your lessons")
    for lesson in mine:
        st.markdown(links.anchor(links.lesson_address(lesson.code), lesson.title) + f" · {len(lesson.steps)} steps · "
                    f"code {lesson.code}", unsafe_allow_html=True)
        st.code(links.lesson_address(lesson.code, full=True), language=None)

st.subheader("Build a lesson")
st.caption("Open each view you want, set it up, and copy its link from “Share this view” in the sidebar "
           "(lesson mode, a locked model and hidden controls travel with it). Paste the links here in order, one "
           "step a line: the link, then | and a note for the students.")
taught = classes.taught_by(engine, me)
with st.form("lesson_build", enter_to_submit=False):
    title = st.text_input("Title", max_chars=80, key="lesson_title", placeholder="e.g. σ_dec in three steps")
    lines = st.text_area("Steps", key="lesson_steps", height=160,
                         placeholder="http://host:8501/elbo?elbo_sigma=0.1&view=lesson | Where is σ*?\n"
                                     "http://host:8501/elbo?elbo_sigma=1&view=lesson | And now?")
    pin = st.selectbox("Pin it on a class", [None, *[c.code for c in taught]], key="lesson_pin",
                       format_func=lambda c: "no class" if c is None else next(
                           f"{k.title} ({k.code})" for k in taught if k.code == c))
    if st.form_submit_button("Save the lesson", type="primary", disabled=me is None):
        rows = [dict(zip(("link", "note"), (part.strip() for part in line.split("|", 1))))
                for line in (lines or "").splitlines() if line.strip()]
        try:
            lesson = lessons.create(engine, me, title, rows, classes.find(engine, pin) if pin else None)
        except Refused as exc:
            st.error(text.plain(str(exc)))
        else:
            state["lesson_saved"] = lesson.code
            st.rerun()
if state.get("lesson_saved"):
    saved = lessons.find(engine, state["lesson_saved"])
    st.success(f"Saved: {text.plain(saved.title)}, {len(saved.steps)} steps. Hand out this link:")
    st.code(links.lesson_address(saved.code, full=True), language=None)
