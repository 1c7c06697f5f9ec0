"""VAE Latent Explorer — `streamlit run app.py` (or serve.py, the README's command)."""
import streamlit as st

from ui import identity, lesson_bar, live_runs, scoring, share, shell, sidebar, url_state

st.set_page_config(page_title="VAE Latent Explorer", page_icon="🧭", layout="wide")

PAGES = {
    "Learn": [
        st.Page("pages/learn.py", title="The VAE, step by step", icon=":material/school:", default=True,
                url_path="learn"),
    ],
    "Explore": [
        st.Page("pages/explore.py", title="Explore the latent space", icon=":material/scatter_plot:", url_path="explore"),
        st.Page("pages/interpolate.py", title="Interpolate", icon=":material/timeline:", url_path="interpolate"),
        st.Page("pages/generate.py", title="Generate", icon=":material/auto_awesome:", url_path="generate"),
        st.Page("pages/elbo.py", title="ELBO decomposition", icon=":material/balance:", url_path="elbo"),
        st.Page("pages/reparameterisation.py", title="The reparameterisation", icon=":material/casino:",
                url_path="reparameterisation"),
        st.Page("pages/posterior.py", title="True posterior vs q", icon=":material/blur_on:", url_path="posterior"),
        st.Page("pages/rate_distortion.py", title="Rate–distortion", icon=":material/show_chart:",
                url_path="rate_distortion"),
        st.Page("pages/draw.py", title="Draw your own", icon=":material/draw:", url_path="draw"),
        st.Page("pages/train.py", title="Train live", icon=":material/model_training:", url_path="train"),
    ],
    "Your work": [
        st.Page("pages/models.py", title="Models", icon=":material/folder_open:", url_path="models"),
        st.Page("pages/class.py", title="Class", icon=":material/groups:", url_path="class"),
        st.Page("pages/lesson.py", title="Lessons", icon=":material/playlist_play:", url_path="lesson"),
    ],
}

link = share.options()  # a lesson link's view=lesson, lock=model, hide=…
page = st.navigation(PAGES, position="hidden" if link.lesson else "sidebar", expanded=True)
url_state.remember_link()
share.hold_fixed()  # locked and hidden controls keep the link's values
identity.mount()  # this browser's key (before the sidebar lists the models that are this session's to open)
scoring.start()  # this process's scoring pool (classroom.scoring): saved models measured apart from Save
sidebar.draw(locked=link.lock_model)  # once, here: the pages read the choice with sidebar.chosen_model()
live_runs.keep_alive()  # and reattaches a reloaded tab to its live run
lesson_bar.draw()  # a teacher's lesson being stepped through: its note, Back and Next
try:
    page.run()
finally:  # also after a page's st.stop()
    share.remember_fixed()
    url_state.notice_ignored(st.session_state[url_state.LINK])
    if not link.lesson:
        share.share_button(page.url_path or "learn", page.url_path)
    shell.collect_garbage_now_and_then()
