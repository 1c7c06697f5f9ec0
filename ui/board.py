"""A class's board: the rate–distortion plane filling in as submissions arrive, the table, a picture per entry,
"open this model in Explore", and a CSV of it all. Student names are shown as plain text only."""
from __future__ import annotations

from datetime import datetime, timezone

import pandas as pd
import streamlit as st

from classroom import classes
from ui import charts, plots, refusals, sidebar, store, text
from ui.sweep_view import sigma_sweep

REFRESH = 4.0  # seconds between looks at the database while the board is open
COLUMNS = {"student": "student", "model": "model", "sigma_dec": "σ_dec", "beta": "β", "latent_dim": "latent",
           "steps": "steps", "elbo": "ELBO", "rate": "rate (KL)", "distortion": "distortion",
           "log_px_iwae": "IWAE log p(x)", "active_units": "active units", "submitted": "submitted (UTC)"}


TEACHER_COLUMNS = {"hidden": "hidden", "copy_of": "same file as"}  # first: in sight on a laptop's screen


def table(rows: list[dict], teacher: bool) -> pd.DataFrame:
    """The board as a table (every figure as measured by the server). The teacher's begins with what they act on:
    whether the entry is hidden, and whether its checkpoint is byte for byte another member's entry."""
    frame = pd.DataFrame([{**row, "submitted": datetime.fromtimestamp(row["created"], timezone.utc)
                          .strftime("%Y-%m-%d %H:%M:%S")} for row in rows],
                         columns=[*(TEACHER_COLUMNS if teacher else ()), *COLUMNS, "entry"])
    if teacher:  # a blank where no other entry has the same file (the table drew "None")
        frame["copy_of"] = frame["copy_of"].fillna("")
    return frame.rename(columns={**COLUMNS, **TEACHER_COLUMNS})


def csv_bytes(frame: pd.DataFrame) -> bytes:
    """The table as CSV that spreadsheets open as written: UTF-8 with a byte-order mark (without one, Excel reads
    "σ_dec" and "β" as Windows-1252)."""
    return frame.to_csv(index=False).encode("utf-8-sig")


OPENING = "_board_opening"  # set by the click's callback, acted on by whichever run comes next


def open_model(name: str, dataset: str) -> None:
    """"Open in Explore": the model chosen now, the page switched by the next run of the board. A button's True is a
    one-off trigger that the board's timed rerun could take first (the click then chose the model and stayed on the
    board); a callback always runs, and the flag it leaves waits for the next run, timed or not."""
    sidebar.choose(name, dataset)
    st.session_state[OPENING] = True


def board(engine, klass, teacher: bool, identity: str | None) -> None:
    """The board of `klass`, redrawn every REFRESH seconds from the database."""

    @st.fragment(run_every=REFRESH)
    def live():
        if st.session_state.pop(OPENING, False):
            st.switch_page("pages/explore.py", query_params={})
        refusals.show("board")
        rows = classes.board(engine, klass, with_hidden=teacher)
        shown = [r for r in rows if not r["hidden"]]
        sweep = sigma_sweep()
        reference = sweep[1]["points"] if sweep else []
        colour = "β" if len({r["beta"] for r in shown}) > 1 else "σ_dec"
        if teacher:
            people = classes.members_of(engine, klass)
            st.caption(f"{len(people)} student{'s' if len(people) != 1 else ''} joined"
                       + (": " + ", ".join(text.plain(p.name) for p in people[:60]) if people else "")
                       + (f" and {len(people) - 60} more" if len(people) > 60 else ""))
        st.caption(f"{len(shown)} entr{'y' if len(shown) == 1 else 'ies'}"
                   + (f" ({len(rows) - len(shown)} hidden)" if teacher and len(rows) > len(shown) else "")
                   + " · each measured by the app's server, not the student's computer, on the test split"
                   " · refreshed every few seconds")
        if not rows:
            st.info("No submissions yet. Students submit from Train live (after Save) or from the Models page.")
            return
        charts.show(plots.class_board(shown, reference, colour), f"{klass.title} · rate against distortion",
                    key=f"board_chart_{klass.id}",
                    alt=f"The class's {len(shown)} entries on the rate–distortion plane (distortion across, rate KL "
                        f"up, coloured by {colour}) over the shipped sweep's curve: "
                        + "; ".join(f"entry #{r['entry']}: distortion {r['distortion']:.1f}, rate {r['rate']:.1f}"
                                    for r in shown[:20]) + ("; …" if len(shown) > 20 else "") + ".")
        frame = table(rows, teacher)
        st.dataframe(frame.drop(columns=["entry"]), hide_index=True, width="stretch")
        picks = {f"#{r['entry']} {r['student']} · {r['model']}": r for r in (rows if teacher else shown)}
        left, right = st.columns([2, 3])
        chosen = left.selectbox("Entry", list(picks), key=f"board_entry_{klass.id}")
        row = picks[chosen]
        picture = classes.pictures(engine, klass, row["entry"])
        if picture and picture.startswith(b"\x89PNG"):
            right.image(picture, alt=f"Entry #{row['entry']}'s pictures: test images, their reconstructions "
                                     "decode(μ), and samples decoded from the prior",
                        caption="test images, their reconstructions decode(μ), and prior samples decode(z)")
        actions = left.container(horizontal=True)
        info = next((i for i in store.available_models(identity) if i.name == row["model"]), None)
        actions.button("Open in Explore", key=f"board_open_{klass.id}", icon=":material/open_in_new:",
                       disabled=info is None, on_click=open_model, args=(row["model"], info.config.dataset if info else "mnist"))
        if teacher:
            hidden = bool(row["hidden"])
            if actions.button("Show again" if hidden else "Hide", key=f"board_hide_{klass.id}"):
                refusals.attempt("board", classes.set_hidden, engine, klass, identity, row["entry"], not hidden)
                st.rerun(scope="fragment")
        st.download_button("Download the board (CSV)", csv_bytes(frame.drop(columns=["entry"])),
                           file_name=f"class-{klass.code}-board.csv", mime="text/csv", key=f"board_csv_{klass.id}")

    live()
