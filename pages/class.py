"""Class: a teacher starts one and hands out its link; students join under a display name and submit their models;
the board fills in as the server measures each one."""
import streamlit as st

from classroom import Refused, classes, lessons
from ui import board, identity, peer, refusals, sidebar, store, text
from ui.links import address, anchor, lesson_address

sidebar.chosen_model(required=False)
st.header("Class")
me = identity.current()
if me is None:
    st.info("Getting this browser's key… Each person's work is kept by a key their browser makes for itself; "
            "no account is needed.")
    st.stop()
engine = store.database()
state = st.session_state
params = st.query_params
notices = st.container()  # the page's refusals, filled in at the end of the run (refusals.show)


def refuse(message: str) -> None:
    """A refusal kept on the page until dismissed (a second run, or a fragment's, would erase a plain st.error)."""
    refusals.keep("class", message)


def link(**query) -> str:
    """An address of this page on this server with `query`."""
    return address("class", query)


def open_class(code: str) -> None:
    params.from_dict({"class": code})


code = params.get("class") or params.get("join")
klass = classes.find(engine, code) if code else None
if code and klass is None:
    st.error("No class has that code: check it with your teacher (6 letters and digits, no O, 0, I or 1).")
if klass is not None and "key" in params:  # the teacher link: checked once, then this browser teaches the class
    if classes.claim_teacher(engine, klass, me, params["key"]):
        st.toast("This browser teaches the class now; its teacher link is no longer needed here.")
    else:
        refuse("That teacher link's key does not open this class: nothing changed.")
    del params["key"]  # not left in the address bar, where it could be shared by mistake
    params["class"] = klass.code


def landing() -> None:
    """No class open: yours, join one, or start one."""
    mine = [(c, "teacher") for c in classes.taught_by(engine, me)] + [
        (c, f"student, as {m.name}") for c, m in classes.classes_of(engine, me, closed=True)]
    if mine:
        st.subheader("Your classes")
        for klass_, role in mine:
            row = st.container(horizontal=True, vertical_alignment="center")
            row.text(f"{klass_.title} · {klass_.code} · {role}" + (" · closed" if klass_.closed else ""))
            row.button("Open", key=f"class_open_{klass_.id}", on_click=open_class, args=(klass_.code,))
    join_column, start_column = st.columns(2)
    with join_column, st.form("class_join", enter_to_submit=False):
        st.subheader("Join a class")
        st.text_input("Class code", max_chars=12, key="class_join_code", help="6 letters and digits, from your teacher")
        st.text_input("Your name in the class", max_chars=classes.MAX_DISPLAY_NAME, key="class_join_name",
                      help="shown to your class and teacher as you type it")
        if st.form_submit_button("Join", type="primary"):
            found = classes.find(engine, state["class_join_code"])
            if found is None:
                refuse("No class has that code: check it with your teacher.")
            else:
                if refusals.attempt("class", classes.join, engine, found, me, state["class_join_name"]):
                    open_class(found.code)
                    st.rerun()
    with start_column, st.form("class_start", enter_to_submit=False):
        st.subheader("Start a class (teachers)")
        st.text_input("Title", max_chars=classes.MAX_TITLE, key="class_title", placeholder="e.g. Period 3 — VAEs")
        if st.form_submit_button("Start the class"):
            try:
                created, key = classes.create(engine, me, state["class_title"])
            except Refused as exc:
                refuse(str(exc))
            else:
                state.setdefault("class_new_keys", {})[created.code] = key
                open_class(created.code)
                st.rerun()


def join_form(klass) -> None:
    st.subheader(text.plain(klass.title))
    if klass.closed:
        st.info("This class is closed: it takes no new members.")
        return
    with st.form("class_join_named", enter_to_submit=False):
        name = st.text_input("Your name in the class", max_chars=classes.MAX_DISPLAY_NAME, key="class_join_as",
                             help="letters, digits, spaces and . _ ' - ; shown as you type it")
        if st.form_submit_button("Join the class", type="primary"):
            if refusals.attempt("class", classes.join, engine, klass, me, name):
                st.rerun()


def pinned_lessons(klass) -> None:
    pinned = lessons.pinned(engine, klass)
    if pinned:
        st.markdown("**Lessons:** " + " · ".join(anchor(lesson_address(lesson.code), lesson.title)
                                                 for lesson in pinned), unsafe_allow_html=True)


def predictions(klass) -> None:
    """Peer instruction on the Learn path's questions: the teacher's console (ui/peer), counts for the teacher alone."""
    peer.console(engine, klass, me, link(**{"class": klass.code, "present": "1"}))


def student_view(klass, member) -> None:
    st.subheader(text.plain(klass.title))
    st.caption(f"You are in this class as {text.plain(member.name)}. "
               + ("The teacher has closed it: the board stays readable." if klass.closed else
                  "Submissions are frozen for now." if klass.frozen else
                  "Submit a model on the Models page, or from Train live after saving it."))
    pinned_lessons(klass)
    board.board(engine, klass, teacher=False, identity=me)


def teacher_view(klass) -> None:
    st.subheader(text.plain(klass.title))
    join_link, code_column = st.columns([3, 1])
    join_link.caption("Students open this link (or type the code on this page):")
    join_link.code(link(join=klass.code), language=None)
    code_column.metric("Class code", klass.code)
    new_key = state.get("class_new_keys", {}).get(klass.code)
    if new_key:
        st.warning("Your teacher link, shown this once: it opens this board as its teacher from any browser or "
                   "server that shares the database. Keep it; it is stored only as a hash.")
        st.code(link(**{"class": klass.code, "key": new_key}), language=None)
        if st.button("I have kept it", key="class_key_kept"):
            state["class_new_keys"].pop(klass.code, None)
            st.rerun()
    controls = st.container(horizontal=True, vertical_alignment="center")
    if not klass.closed:
        frozen = controls.toggle("Freeze submissions", value=klass.frozen, key=f"class_frozen_{klass.id}")
        if frozen != klass.frozen:
            if refusals.attempt("class", classes.set_frozen, engine, klass, me, frozen):
                st.rerun()
        confirm = controls.checkbox("Yes, close it", key=f"class_close_confirm_{klass.id}")
        if controls.button("Close the class", disabled=not confirm, key=f"class_close_{klass.id}"):
            if refusals.attempt("class", classes.close, engine, klass, me):
                st.rerun()
    else:
        controls.caption("Closed: no joins, no submissions; the board stays readable.")
    pinned_lessons(klass)
    tab_board, tab_predictions = st.tabs(["Board", "Predictions"])
    with tab_board:
        board.board(engine, klass, teacher=True, identity=me)
    with tab_predictions:
        predictions(klass)


if klass is None:
    landing()
elif classes.teaches(engine, klass, me):
    if params.get("present"):
        peer.presenter(engine, klass)  # the projector's view: no counts unless the teacher shows them
    else:
        teacher_view(klass)
else:
    member = classes.membership(engine, klass, me)
    if member is None:
        join_form(klass)
    else:
        student_view(klass, member)
with notices:
    refusals.show("class")
