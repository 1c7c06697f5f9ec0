"""VAE Latent Explorer — `streamlit run app.py`."""
import streamlit as st

st.set_page_config(page_title="VAE Latent Explorer", page_icon="🧭", layout="wide")

PAGES = [
    st.Page("pages/explore.py", title="Explore the latent space", icon="🗺️", default=True, url_path="explore"),
    st.Page("pages/interpolate.py", title="Interpolate", icon="↔️", url_path="interpolate"),
    st.Page("pages/elbo.py", title="ELBO decomposition", icon="⚖️", url_path="elbo"),
    st.Page("pages/train.py", title="Train live", icon="🏋️", url_path="train"),
    st.Page("pages/models.py", title="Models", icon="🗂️", url_path="models"),
]

page = st.navigation(PAGES)
st.sidebar.title("VAE Latent Explorer")
page.run()
