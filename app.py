"""VAE Latent Explorer — `streamlit run app.py`."""
import streamlit as st

from ui import identity, live_runs, sidebar, url_state

st.set_page_config(page_title="VAE Latent Explorer", page_icon="🧭", layout="wide")

PAGES = [
    st.Page("pages/explore.py", title="Explore the latent space", icon=":material/scatter_plot:", default=True, url_path="explore"),
    st.Page("pages/interpolate.py", title="Interpolate", icon=":material/timeline:", url_path="interpolate"),
    st.Page("pages/generate.py", title="Generate", icon=":material/auto_awesome:", url_path="generate"),
    st.Page("pages/elbo.py", title="ELBO decomposition", icon=":material/balance:", url_path="elbo"),
    st.Page("pages/reparameterisation.py", title="The reparameterisation", icon=":material/casino:", url_path="reparameterisation"),
    st.Page("pages/posterior.py", title="True posterior vs q", icon=":material/blur_on:", url_path="posterior"),
    st.Page("pages/rate_distortion.py", title="Rate–distortion", icon=":material/show_chart:", url_path="rate_distortion"),
    st.Page("pages/draw.py", title="Draw your own", icon=":material/draw:", url_path="draw"),
    st.Page("pages/train.py", title="Train live", icon=":material/model_training:", url_path="train"),
    st.Page("pages/models.py", title="Models", icon=":material/folder_open:", url_path="models"),
    st.Page("pages/class.py", title="Class", icon=":material/groups:", url_path="class"),
]

page = st.navigation(PAGES)
url_state.remember_link()
identity.mount()  # this browser's key (before the sidebar lists the models that are this session's to open)
sidebar.draw()  # once, here: the pages read the choice with sidebar.chosen_model()
live_runs.keep_alive()  # and reattaches a reloaded tab to its live run
try:
    page.run()
finally:  # also after a page's st.stop()
    url_state.notice_ignored(st.session_state[url_state.LINK])
