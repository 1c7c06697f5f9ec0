"""VAE Latent Explorer — `streamlit run app.py` (or serve.py, the README's command)."""
import streamlit as st

from ui import identity, links, live_runs, scoring, shell, sidebar

st.set_page_config(page_title="VAE Latent Explorer", page_icon="🧭", layout="wide")

PAGES = {
    "Learn": [
        st.Page("pages/learn.py", title="The VAE, step by step", icon=":material/school:", default=True,
                url_path=""),  # served at /, and at /learn (links.ALIASES)
    ],
    "Explore": [
        st.Page("pages/explore.py", title="Explore the latent space", icon=":material/scatter_plot:", url_path="explore"),
        st.Page("pages/interpolate.py", title="Interpolate", icon=":material/timeline:", url_path="interpolate"),
        st.Page("pages/generate.py", title="Generate", icon=":material/auto_awesome:", url_path="generate"),
        st.Page("pages/elbo.py", title="ELBO decomposition", icon=":material/balance:", url_path="elbo"),
        st.Page("pages/reparameterisation.py", title="The reparameterisation", icon=":material/casino:",
                url_path="reparameterisation"),
        st.Page("pages/posterior.py", title="True posterior vs q", icon=":material/blur_on:", url_path="posterior"),
        st.Page("pages/gaps.py", title="Why q misses: two gaps", icon=":material/join_inner:", url_path="gaps"),
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


def alias(name: str, path: str) -> st.Page:
    """A page's obvious name (/learn, /lessons), not listed: it opens the page at `path` with the same query."""
    target = next(p for section in PAGES.values() for p in section if p.url_path == path)
    return st.Page(lambda: st.switch_page(target, query_params=st.query_params.to_dict()), title=target.title,
                   url_path=name, visibility="hidden")


links.know_pages(PAGES)
link = links.options()  # a lesson link's view=lesson, lock=model, hide=… (a lesson step's from the stored lesson)
aliases = [alias(name, path) for name, path in links.ALIASES.items()]
page = st.navigation({**PAGES, "Your work": [*PAGES["Your work"], *aliases]},
                     position="hidden" if link.lesson else "sidebar", expanded=True)
links.hold_fixed()  # locked and hidden controls keep the link's values
identity.mount()  # this browser's key (before the sidebar lists the models that are this session's to open)
scoring.start()  # this process's scoring pool (classroom.scoring): saved models measured apart from Save
sidebar.draw(locked=link.lock_model)  # once, here: the pages read the choice with sidebar.chosen_model()
live_runs.keep_alive()  # and reattaches a reloaded tab to its live run
departures = links.lesson_bar(page.url_path)  # a teacher's lesson being stepped through: its note, Back and Next
share = None if link.lesson else links.share_button(page.url_path)  # before the page: one may st.stop()
try:
    page.run()
finally:  # also after a page's st.stop()
    links.remember_fixed()
    links.notice_ignored(st.session_state[links.LINK])
    links.show_departures(departures, page.url_path)
    if share is not None:
        share()  # the link again, with every setting the page drew
    shell.collect_garbage_now_and_then()
