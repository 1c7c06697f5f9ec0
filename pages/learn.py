"""Learn: the tutorial, step by step — each equation with this image's numbers, a live view, one thing to try,
and a question to answer before the reveal."""
import streamlit as st

from ui import learn
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
STEPS[step - 1].draw(ctx)
st.divider()
row = st.container(horizontal=True)
row.button("Back", icon=":material/arrow_back:", key="learn_back", disabled=step == 1, on_click=go, args=(step - 1,))
row.button("Next", icon=":material/arrow_forward:", key="learn_next", type="primary", disabled=step == last,
           on_click=go, args=(step + 1,))
if step == last:
    row.caption("The end of the path. The pages in the sidebar take every idea further.")
