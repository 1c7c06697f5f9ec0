"""Shared UI pieces of the Streamlit app (the pages stay thin; the math stays in `vae/`)."""
