"""Learn: the tutorial, step by step — each equation with this image's numbers, a live view, one thing to try,
and a question to answer before the reveal."""
import streamlit as st

from ui import focus, learn
from ui.sidebar import chosen_model

info = chosen_model()
st.header("The VAE, step by step")
from ui.learn.steps import STEPS  # noqa: E402  (torch: after the heading is on screen)

state = st.session_state
last = len(STEPS)


def go(step: int) -> None:
    state[learn.STEP] = min(max(step, 1), last)


step = int(st.number_input(f"Step (1–{last})", 1, last, 1, key=learn.STEP, bind="query-params",
                           persist_state="session", help=" · ".join(f"{k}. {s.title}" for k, s in enumerate(STEPS, 1))))
st.progress(step / last, text=f"Step {step} of {last}: {STEPS[step - 1].title}")
ctx = learn.context(info)
drawn = state.get("learn_drawn")  # the step this session's last run drew (None on its first)
moved = drawn != step  # Back, Next or the step's box: the next run clears the old step and takes the focus
state["learn_drawn"] = step
# A new step replaces the old one at once (st.empty sends an empty element in its place), instead of leaving the
# old step's equations greyed under the new title while the new one computes; within a step, nothing flickers.
body = st.empty().container(key="learn_body") if moved else st.container(key="learn_body")
with body:
    st.subheader(f"{step}. {STEPS[step - 1].title}", anchor=False)
    STEPS[step - 1].draw(ctx)
if moved and drawn is not None:  # not on the page's first run: the focus stays where the browser put it
    focus.move_focus(".st-key-learn_body h3")  # the new step's title: reading goes on from there
st.divider()
row = st.container(horizontal=True)
row.button("Back", icon=":material/arrow_back:", key="learn_back", disabled=step == 1, on_click=go, args=(step - 1,))
row.button("Next", icon=":material/arrow_forward:", key="learn_next", type="primary", disabled=step == last,
           on_click=go, args=(step + 1,))
if step == last:
    row.caption("The end of the path. The pages in the sidebar take every idea further.")
