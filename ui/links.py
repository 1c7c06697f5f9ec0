"""Links: how the app reads an address, how "Share this view" writes one, and a teacher's lesson stepped through.

A link holds every setting of its page (defaults too), the sidebar's dataset and model, and the drawing when the
page shows one, with three options: lesson mode (`view=lesson`: no navigation, no sidebar), a locked model
(`lock=model`) and hidden controls (`hide=elbo_sigma,elbo_unit`). A value is written exactly as the widget bound to
the URL reads it (`text`: a float as Python writes it, 1.0), and read in any spelling of a valid value (1, 1.00).

A session reads its link once, on its first run (`options`). Inside a lesson (`lesson=CODE&lesson_step=K`) the
step's options and its locked and hidden values come from the stored lesson, not from the address: a view that
differs from the step says so, with a way back to it. A locked or hidden control keeps its link's value: after the
first run it is remembered, and every later run sets it back before the page draws.
"""
from __future__ import annotations

import base64
import html
import math
from dataclasses import dataclass, field
from urllib.parse import parse_qsl, urlencode, urlsplit

import numpy as np
import streamlit as st

from ui.text import plain

SIDEBAR = {"dataset": "the data set: MNIST or Fashion-MNIST", "model": "the model's name"}
# Each page's parameters (the widget keys bound to the URL, and state the page publishes itself), in the order a
# link lists them, with what each sets. The README's table of parameters is this dictionary; its keys are the
# pages' url paths ("learn" is served at /).
PARAMETERS: dict[str, dict[str, str]] = {
    "learn": {"learn_step": "the step of the path, 1–11", "learn_index": "the test image",
              "learn_sigma": "σ_dec of the decoder step", "learn_l": "L, samples of z (step 2)", "learn_tau": "temperature τ"},
    "explore": {"explore_projection": "PCA or t-SNE (d > 2)", "explore_grid_n": "the manifold grid's size",
                "explore_pad_x": "the pad's horizontal dimension (d > 2)",
                "explore_pad_y": "the pad's vertical dimension (d > 2)", "index": "the selected test image",
                "z": "the decoded z, comma-separated"},
    "interpolate": {"interp_projection": "PCA or t-SNE (d > 2)", "interp_a": "image A", "interp_b": "image B",
                    "interp_steps": "steps of the path"},
    "generate": {"generate_projection": "PCA or t-SNE (d > 2)", "generate_tau": "temperature τ",
                 "generate_seed": "seed", "generate_show": "mean image or a draw", "generate_index": "the image whose "
                 "μ holds the other dimensions (traversals)"},
    "elbo": {"elbo_mode": "σ_dec changed alone, or a model trained at each σ_dec", "elbo_sigma": "σ_dec",
             "elbo_index": "the test image", "elbo_unit": "nats or bits per dim",
             "elbo_sweep_sigma": "the sweep member (second mode)"},
    "reparameterisation": {"sampling_projection": "PCA or t-SNE (d > 2)", "sampling_index": "the test image",
                           "sampling_l": "L, samples of ε", "sampling_seed": "the seed of ε", "drawing": "your drawing"},
    "posterior": {"posterior_sigma": "σ_dec", "posterior_index": "the test image"},
    "gaps": {"gaps_sigma": "σ_dec", "gaps_index": "the test image (section 1's)"},
    "rate_distortion": {"sweep_sweep": "the sweep", "sweep_member": "the chosen member"},
    "draw": {"draw_projection": "PCA or t-SNE (d > 2)", "drawing": "the drawing"},
    "train": {"train_latent": "latent dimensions", "train_hidden": "hidden widths", "train_likelihood": "decoder",
              "train_sigma": "σ_dec", "train_lr": "learning rate", "train_beta": "β", "train_batch": "batch size",
              "train_seed": "seed", "train_size": "how many training images: all 60,000, 10,000 or 2,000",
              "train_steps": "a run of this many steps, recomputed from the recipe and seed, paused",
              "train_at": "the step of its timeline shown"},
    "models": {},
    "class": {"class": "a class's code (its board)", "join": "a class's code (to join it)"},
    "lesson": {"lesson": "a lesson's code", "lesson_step": "its step, 1…"},
}
KNOWN = {key for keys in PARAMETERS.values() for key in keys} | set(SIDEBAR)
# Sliders whose options are floats: Streamlit takes only the option as Python writes it (1.0, 0.001), so a link's
# other spellings of the same number (1, 1.00, 1e-3) are rewritten to it before the widget reads the address.
FLOAT_CHOICES = {"train_sigma", "train_lr", "elbo_sigma", "posterior_sigma", "gaps_sigma", "learn_sigma"}
# A recipe's setting hidden by a link hides the slider that changes it while the model trains, too.
ALSO_HIDDEN = {"train_sigma": ("live_sigma",), "train_lr": ("live_lr",), "train_beta": ("live_beta",)}


def _projection_label(method: str) -> str:
    from ui.latent_view import PROJECTIONS

    return PROJECTIONS.get(method, method)


# Choices shown by a label: a link holds the label, as the widget reads it (t-SNE, z3).
FORMATTERS = {"explore_pad_x": lambda i: f"z{int(i) + 1}", "explore_pad_y": lambda i: f"z{int(i) + 1}",
              **{f"{page}_projection": _projection_label for page in ("explore", "interp", "generate", "sampling", "draw")}}
VIEW_OPTIONS = ("view", "lock", "hide")  # what a link asks of the view (the lesson's own, inside a lesson)
LESSON = ("lesson", "lesson_step")
OPTIONS = "_share_options"  # this session's link options, read on its first run
FIXED = "_share_fixed"  # key → the value a locked or hidden control keeps
LINK = "_link_params"  # the address as this session read it (for `notice_ignored`)
READ = "_link_read"  # pages whose link state (`read_link`) has been read
DRAWING = "draw_framed"  # the Draw page's framed drawing, [28, 28] floats in [0, 1]
LINKED_DRAWING = "draw_from_link"  # the drawing came with the link (the canvas is empty until the student draws)
ALIASES = {"learn": "", "lessons": "lesson", "classes": "class"}  # an obvious name of a page → its url path
TITLES: dict[str, str] = {}  # url path → the page's title, from app.py's pages (`know_pages`)


# ---- Writing a value, and addresses of this server -------------------------------------------------------------

def text(key: str, value) -> str | None:
    """`value` of the parameter `key` as a link writes it: as the widget bound to the URL reads it."""
    if value is None:
        return None
    if key in FORMATTERS:
        return FORMATTERS[key](value)
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (float, np.floating)):
        return str(float(value)) if math.isfinite(value) else None
    if isinstance(value, (list, tuple)):
        return ",".join(f"{float(v):.6g}" for v in value)
    return str(value)


def canonical(key: str, text_: str) -> str:
    """A link's text for `key` in the spelling its widget takes (1, 1.00 and 1e0 → 1.0 for a float choice)."""
    if key in FLOAT_CHOICES:
        try:
            number = float(text_)
        except ValueError:
            return text_
        return str(number) if math.isfinite(number) else text_
    return text_


def agrees(text_: str, value_text: str) -> bool:
    """Whether two texts of a parameter are the same value (1 and 1.0 are)."""
    try:
        return math.isclose(float(text_), float(value_text), rel_tol=1e-6)
    except ValueError:
        return text_ == value_text


def base_url() -> str:
    """This server's address as the browser sees it (with its base path), without the page's path or query."""
    url = (st.context.url or "").split("?")[0].rstrip("/")
    head, _, last = url.rpartition("/")
    return head if head and "//" in head and (last in PARAMETERS or last in ALIASES) else url


def address(path: str, query: dict | None = None, full: bool = True) -> str:
    """The address of the page at url `path` ("" for the Learn page) with `query`: on this server (`full`), or
    from its root."""
    tail = f"/{path}" + (f"?{urlencode(query)}" if query else "")
    return (base_url() + tail) if full else tail


def lesson_address(code: str, full: bool = False) -> str:
    """A lesson's page: its steps, and where to start."""
    return address("lesson", {"lesson": code}, full)


def anchor(url: str, label: str) -> str:
    """A link that opens `url` in this tab (a step's view as a fresh page with its link's settings)."""
    return f'<a href="{html.escape(url)}" target="_self">{html.escape(label)}</a>'


def know_pages(pages: dict) -> None:
    """app.py: the title of each page's url path (and its obvious names), for lesson steps and aliases."""
    for section in pages.values():
        for page in section:
            TITLES.setdefault(page.url_path, page.title)


def page_title(link: str) -> str:
    """The title of the page a link (or its path) opens."""
    path = urlsplit(link).path.strip("/").rsplit("/", 1)[-1]
    path = ALIASES.get(path, path)
    return TITLES.get(path, path or "Learn")


# ---- Reading a link: its options, in a lesson the stored step's -------------------------------------------------

@dataclass
class Step:
    """The lesson step a session was opened at: its lesson, its number, its stored link's path and query, and the
    values of the address that the step's locked or hidden controls refused."""
    lesson: object
    k: int
    path: str
    query: dict
    refused: dict = field(default_factory=dict)

    @property
    def url(self) -> str:
        return step_url(self.lesson, self.k)


@dataclass
class LinkOptions:
    lesson: bool = False
    lock_model: bool = False
    hidden: tuple = ()
    step: Step | None = None

    @property
    def fixed(self) -> set[str]:
        """The keys whose values stay as the link gave them."""
        return set(self.hidden) | ({"dataset", "model"} if self.lock_model else set())


def step_url(lesson, k: int) -> str:
    """Step k (1-based) of `lesson`: its stored link, with the lesson's own parameters added."""
    link = lesson.steps[k - 1]["link"]
    return f"{link}{'&' if '?' in link else '?'}{urlencode({'lesson': lesson.code, 'lesson_step': k})}"


def lesson_step(query: dict) -> Step | None:
    """The stored lesson step an address names (`lesson`, `lesson_step`), or None (a toast when it names none)."""
    from classroom import lessons
    from ui import store

    code, k = query.get("lesson"), query.get("lesson_step")
    if not code or not k:
        return None
    lesson = lessons.find(store.database(), code)
    if lesson is None or not k.isdigit() or not 1 <= int(k) <= len(lesson.steps):
        st.toast("Ignored `lesson` in the link: no such lesson or step", icon=":material/link_off:")
        return None
    parts = urlsplit(lesson.steps[int(k) - 1]["link"])
    return Step(lesson, int(k), parts.path.strip("/"), dict(parse_qsl(parts.query)))


def options() -> LinkOptions:
    """This session's link options (`view=lesson`, `lock=model`, `hide=…`), read once, on its first run."""
    state = st.session_state
    if OPTIONS not in state:
        state[OPTIONS] = _read_link()
    return state[OPTIONS]


def _read_link() -> LinkOptions:
    """The session's first run: the link's options (a lesson step's from the stored lesson, which also sets its
    locked and hidden values), each value in the spelling its widget takes, and the drawing."""
    given = st.query_params.to_dict()
    step = lesson_step(given)
    source = step.query if step else given
    hidden = tuple(k for k in source.get("hide", "").split(",") if k in KNOWN)
    link = LinkOptions(source.get("view") == "lesson", source.get("lock") == "model", hidden, step)
    wanted = dict(given)
    if step is not None:
        wanted = {k: v for k, v in given.items() if k not in VIEW_OPTIONS}
        wanted |= {k: step.query[k] for k in VIEW_OPTIONS if k in step.query}
        for key in sorted(link.fixed):
            if key in step.query and not (key in given and agrees(given[key], step.query[key])):
                if key in given:
                    step.refused[key] = given[key]
                wanted[key] = step.query[key]
    wanted = {k: canonical(k, v) for k, v in wanted.items()}
    if wanted != given:
        _open_with(wanted)
    # For `notice_ignored`: each value as the address spelled it (the step's own where the step set it).
    st.session_state[LINK] = {k: given[k] if canonical(k, given.get(k, "")) == v else v for k, v in wanted.items()}
    if "drawing" in wanted:  # a drawing travels with its link, framed 28×28 as the Draw page made it
        drawing = decode_drawing(wanted["drawing"])
        if drawing is None:
            st.toast("Ignored `drawing` in the link: not a 28×28 drawing", icon=":material/link_off:")
        else:
            st.session_state[DRAWING], st.session_state[LINKED_DRAWING] = drawing, True
    return link


def _open_with(query: dict) -> None:
    """The address becomes `query`, before any widget is drawn, and the page's widgets start from it as from the
    address the browser opened (Streamlit seeds them from the query string it received, kept apart)."""
    from streamlit.runtime.scriptrunner import get_script_run_ctx

    st.query_params.from_dict(query)
    ctx = get_script_run_ctx()
    if ctx is not None:
        with ctx.session_state.query_params() as params:
            params.set_initial_query_params(urlencode(query))


# ---- Locked and hidden controls ----------------------------------------------------------------------------------

def hold_fixed() -> None:
    """app.py, before the sidebar and the page: each locked or hidden control back to the value its link gave
    it, and the hidden ones out of sight (with their labels, and the live sliders of a hidden recipe setting)."""
    link = options()
    state = st.session_state
    for key, value in state.get(FIXED, {}).items():
        state[key] = value
    keys = sorted({*link.hidden, *(k for key in link.hidden for k in ALSO_HIDDEN.get(key, ()))})
    rules = [f".st-key-{key}" for key in keys]
    if link.lesson:
        rules += ["[data-testid=stSidebar]", "[data-testid=stSidebarCollapsedControl]", "[data-testid=stExpandSidebarButton]"]
    if rules:
        st.html(f"<style>{', '.join(rules)} {{ display: none !important; }}</style>")


def remember_fixed() -> None:
    """app.py, after the page: the values the link gave to locked and hidden controls, once each was drawn."""
    state = st.session_state
    fixed = state.setdefault(FIXED, {})
    for key in options().fixed:
        if key not in fixed and key in state:
            fixed[key] = state[key]


# ---- State that no widget holds, and values a widget did not take -----------------------------------------------

class BadValue(ValueError):
    pass


def integer(low: int, high: int):
    def parse(text_: str) -> int:
        try:
            value = int(text_)
        except ValueError:
            raise BadValue(f"expected a whole number, got {text_!r}") from None
        if not low <= value <= high:
            raise BadValue(f"{value} is outside {low}–{high}")
        return value
    return parse


def vector(length: int, low: float, high: float):
    """`length` comma-separated finite numbers, each clipped to [low, high]."""
    def parse(text_: str) -> list[float]:
        parts = text_.split(",")
        if len(parts) != length:
            raise BadValue(f"expected {length} comma-separated numbers, got {len(parts)}")
        try:
            values = [float(p) for p in parts]
        except ValueError:
            raise BadValue(f"expected numbers, got {text_!r}") from None
        if not all(math.isfinite(v) for v in values):
            raise BadValue("NaN or infinite values are not allowed")
        return [min(max(v, low), high) for v in values]
    return parse


def read_link(page: str, parsers: dict) -> dict:
    """The page's own link values that no widget holds, parsed, on its first run in this session ({} afterwards)."""
    read = st.session_state.setdefault(READ, set())
    if page in read:
        return {}
    read.add(page)
    values = {}
    for name, parse in parsers.items():
        given = st.query_params.get(name)
        if given is None:
            continue
        try:
            values[name] = parse(given)
        except BadValue as exc:
            st.toast(f"Ignored `{name}` in the link: {exc}", icon=":material/link_off:")
    return values


def publish(values: dict) -> None:
    """Write state that no widget holds into the URL (None removes a parameter)."""
    for name, value in values.items():
        written = text(name, value)
        if st.query_params.get(name) != written:
            if written is None:
                del st.query_params[name]
            else:
                st.query_params[name] = written


def notice_ignored(bound_keys) -> None:
    """After the first page run of a session: a toast for each bound link value the widget did not take."""
    given = st.session_state.get(LINK) or {}
    for name in bound_keys:
        if name in given and name in st.session_state:
            held = text(name, st.session_state[name])
            if held is None or not agrees(given[name], held):
                st.toast(f"Ignored `{name}={given[name][:40]}` in the link: not one of the choices, or out of range",
                         icon=":material/link_off:")
    st.session_state[LINK] = {}


# ---- Writing a link: "Share this view" ---------------------------------------------------------------------------

def encode_drawing(drawing) -> str:
    """A 28×28 drawing as URL-safe base64 of its grey levels (784 bytes → 1,045 characters)."""
    return base64.urlsafe_b64encode(np.clip(np.asarray(drawing) * 255, 0, 255).round().astype(np.uint8).tobytes()).decode()


def decode_drawing(text_: str) -> np.ndarray | None:
    """The drawing a link carries, or None when the text is not one."""
    try:
        raw = base64.urlsafe_b64decode(text_.encode())
    except (ValueError, TypeError):
        return None
    if len(raw) != 784:
        return None
    return np.frombuffer(raw, dtype=np.uint8).reshape(28, 28).astype(np.float32) / 255.0


def current_values(page: str) -> dict[str, str]:
    """Every setting of `page` as a link gives it: the URL's own value where the URL has one, else the session's
    (a default the URL leaves out), and the sidebar's choices."""
    state, params, values = st.session_state, st.query_params, {}
    for key in [*SIDEBAR, *PARAMETERS.get(page, {})]:
        if key == "drawing":
            if state.get(DRAWING) is not None:
                values[key] = encode_drawing(state[DRAWING])
            continue
        given = params.get(key)
        held = text(key, state[key]) if key in state else None
        value = canonical(key, given) if given is not None and (held is None or agrees(given, held)) else held
        if value is not None:
            values[key] = value
    return values


def link(base: str, path: str, values: dict[str, str], lesson: bool = False, lock_model: bool = False,
         hidden=()) -> str:
    """The address of the page at `path` on `base` with `values` and the options."""
    query = dict(values)
    if lesson:
        query["view"] = "lesson"
    if lock_model:
        query["lock"] = "model"
    if hidden:
        query["hide"] = ",".join(hidden)
    return f"{base.rstrip('/')}/{path}" + (f"?{urlencode(query)}" if query else "")


def share_button(path: str):
    """"Share this view" (in the sidebar) for the page at url `path`: the options, then the link, with a copy
    button. Drawn before the page (a page that stops with st.stop() draws nothing after it); the function it
    returns writes the link again after the page, with every setting the page drew."""
    page = path or "learn"
    labels = {key: f"{key} — {what}" for key, what in PARAMETERS.get(page, {}).items()
              if key not in ("index", "z", "drawing", "lesson", "lesson_step", "train_steps")}
    with st.sidebar.popover("Share this view", icon=":material/share:", width="stretch"):
        st.caption("A link to this page as it is now: every setting, the model, and the drawing if there is one.")
        lesson = st.checkbox("Lesson mode: no navigation, no sidebar", key="share_lesson")
        lock = st.checkbox("Lock the model", key="share_lock")
        hidden = st.multiselect("Hide these controls (their values still apply)", list(labels), key="share_hide",
                                format_func=labels.get)
        slot = st.empty()

    def write() -> None:
        slot.code(link(base_url(), path, current_values(page), lesson, lock, hidden), language=None, wrap_lines=True)

    write()
    return write


# ---- A teacher's lesson being stepped through ---------------------------------------------------------------------

def lesson_bar(path: str):
    """app.py, before the page at url `path`: the lesson's title, where the student is in it, the step's note, Back /
    Next to the neighbouring steps, and how this view differs from the step (`show_departures`, again after the
    page); returns the place where it says so."""
    step = options().step
    if step is None:
        return None
    lesson, k, n = step.lesson, step.k, len(step.lesson.steps)
    with st.container(border=True, key="lesson_bar"):
        st.caption(f"Lesson: {plain(lesson.title)} · step {k} of {n}")
        st.progress(k / n)
        st.markdown(plain(lesson.steps[k - 1]["note"]))
        moves = [anchor(step_url(lesson, k - 1), "← Back")] if k > 1 else []
        moves += [anchor(step_url(lesson, k + 1), "Next →")] if k < n else []
        moves += [anchor(lesson_address(lesson.code), "All steps")]
        st.markdown(" · ".join(moves), unsafe_allow_html=True)
        slot = st.empty()
    show_departures(slot, path)
    return slot


def departures(step: Step, path: str, values: dict[str, str]) -> list[str]:
    """How the view at `path` with `values` differs from the lesson's step, one phrase each."""
    if path != step.path:
        return [f"this is {page_title(path)}, the step is {page_title(step.path)}"]
    return [f"{key} is {values[key]} here, {wanted} in the step" for key, wanted in step.query.items()
            if key in values and key not in VIEW_OPTIONS and key != "drawing" and not agrees(values[key], wanted)]


def show_departures(slot, path: str) -> None:
    """app.py, after the page: in the lesson bar, the values the step's locked or hidden controls refused, how this
    view differs from the step, and a way back to the lesson's view."""
    step = options().step
    if slot is None or step is None:
        return
    refused = [f"{key}={value}" for key, value in step.refused.items()]
    differs = departures(step, path, current_values(path or "learn"))
    if not refused and not differs:
        return
    with slot.container():
        if refused:
            st.warning(plain(f"This step sets {', '.join(sorted(step.refused))} itself: "
                                   f"{', '.join(refused)} in the address was not used."), icon=":material/lock:")
        if differs:
            st.caption(plain("This view differs from the lesson's step: " + "; ".join(differs) + "."))
        st.markdown(anchor(step.url, "Back to the lesson's view"), unsafe_allow_html=True)
