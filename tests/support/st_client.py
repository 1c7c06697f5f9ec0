"""A lean client of Streamlit's own websocket protocol, without a browser (benchmarks/class_scale): a session opens
`ws://HOST/_stcore/stream` with a cookie of its own, asks for script runs (BackMsg.rerun_script with the page and the
widget states that changed), reads the ForwardMsgs back (deltas, auto-reruns, script_finished) and, like the browser,
reruns each fragment that asked to be rerun every so often (st.fragment(run_every=…)).

Widgets are found by their key (an element id ends in the widget's key: `$$ID-<hash>-<key>`) or by their label.
Requests are made one at a time per session (a fragment's timed rerun waits for a click's run to end); each returns
what that run drew and how long it took, from the request to the server's script_finished.
"""
from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field

DONE = {0: "ok", 1: "compile error", 3: "fragment ok"}  # ForwardMsg.ScriptFinishedStatus, 2 (early for rerun) not done


@dataclass
class Run:
    """What one script run drew: (element type, proto) in order; its seconds from request to finish; fragment or not."""
    elements: list = field(default_factory=list)
    seconds: float = 0.0
    fragment: bool = False

    def texts(self, kind: str) -> list[str]:
        """The bodies of the run's elements of `kind` ('alert' for success/info/error, 'markdown' for captions…)."""
        return [getattr(proto, "body", "") for typ, proto in self.elements if typ == kind]

    def metrics(self) -> dict[str, str]:
        return {proto.label: proto.body for typ, proto in self.elements if typ == "metric"}

    def has(self, kind: str, words: str) -> bool:
        return any(words in body for body in self.texts(kind))


def user_key(element_id: str) -> str | None:
    """The widget's key in an element id `$$ID-<hash>-<key>` (None where it has none)."""
    if not element_id.startswith("$$ID-"):
        return None
    key = element_id.split("-", 2)[2] if element_id.count("-") >= 2 else "None"
    return None if key == "None" else key


class Session:
    """One browser tab of `base` (http://host:port) with browser key `key` in its cookie `cookie`."""

    def __init__(self, base: str, cookie: str, key: str):
        self.base, self.cookie, self.key = base, cookie, key
        self.page_hash = ""
        self.query = ""  # the address's query string, sent with every run as the browser sends it
        self.pages: dict[str, str] = {}  # url path → page script hash
        self.widgets: dict[str, object] = {}  # key → the widget's latest proto
        self.labelled: dict[str, object] = {}  # label → the latest widget of that label
        self.fragments: dict[str, float] = {}  # fragment id → seconds between its reruns
        self.runs: list[Run] = []  # every run, for page-run statistics
        self.lock = asyncio.Lock()
        self.current: Run | None = None
        self.finished: asyncio.Future | None = None
        self.run_ids: set[str] = set()  # the server's script runs seen so far
        self.before: set[str] = set()  # those seen before the pending request was sent: not its run
        self.closed = False

    async def open(self, page: str, query: str = "") -> Run:
        """Connect and run `page` (its url path, '' for the default page) with `query` as a browser opening it."""
        from websockets.asyncio.client import connect

        host = self.base.split("://", 1)[1]
        self.ws = await connect(f"ws://{host}/_stcore/stream", subprotocols=["streamlit"], origin=self.base,
                                additional_headers={"Cookie": f"{self.cookie}={self.key}"}, max_size=None,
                                compression=None, ping_interval=None, open_timeout=60)
        self.reader = asyncio.create_task(self._read())
        self.ticker = asyncio.create_task(self._tick())
        return await self.request(page=page, query=query)

    async def close(self) -> None:
        self.closed = True
        self.ticker.cancel()
        await self.ws.close()
        self.reader.cancel()

    def widget(self, key_or_label: str):
        """The latest proto of the widget with this key (else the latest with this label)."""
        return self.widgets.get(key_or_label) or self.labelled[key_or_label]

    async def request(self, widgets=(), page: str | None = None, query: str | None = None,
                      fragment: str | None = None, timeout: float = 600) -> Run:
        """One script run: the page (a url path, to navigate: the query `query`, else none) or this one (its query
        as it stands), with `widgets` (WidgetState protos); a fragment's alone when `fragment` names it. Waits for
        its script_finished."""
        from streamlit.proto.BackMsg_pb2 import BackMsg

        async with self.lock:
            msg = BackMsg()
            state = msg.rerun_script
            if page is not None or query is not None:
                self.query = query or ""
            state.query_string = self.query
            if page is not None:
                state.page_name = page
                state.page_script_hash = self.pages.get(page, "")
            else:
                state.page_script_hash = self.page_hash
            if fragment:
                state.fragment_id = fragment
                state.is_auto_rerun = True
            state.widget_states.widgets.extend(widgets)
            state.context_info.timezone = "UTC"
            self.current = Run(fragment=bool(fragment))
            self.before = set(self.run_ids)  # a run the server began on its own (st.rerun) ends before ours
            self.finished = asyncio.get_running_loop().create_future()
            start = time.perf_counter()
            await self.ws.send(msg.SerializeToString())
            await asyncio.wait_for(self.finished, timeout)
            run, self.current = self.current, None
            run.seconds = time.perf_counter() - start
            self.runs.append(run)
            return run

    async def click(self, key_or_label: str, also=()) -> Run:
        """A button's click (a form's submit button sends the form's widgets `also` with it)."""
        from streamlit.proto.WidgetStates_pb2 import WidgetState

        state = WidgetState(id=self.widget(key_or_label).id, trigger_value=True)
        return await self.request([*also, state])

    def text(self, key: str, value: str):
        from streamlit.proto.WidgetStates_pb2 import WidgetState

        return WidgetState(id=self.widget(key).id, string_value=value)

    def choose(self, key: str, ending: str):
        """A segmented control's / pills' state with the option whose text ends in `ending`."""
        from streamlit.proto.WidgetStates_pb2 import WidgetState

        proto = self.widget(key)
        chosen = next(o for o in proto.options if o.content.endswith(ending))
        # the option as its format_func wrote it, which the server reads back: an icon the element drew apart first
        option = f"{chosen.content_icon} {chosen.content}" if chosen.content_icon else chosen.content
        state = WidgetState(id=proto.id)
        state.string_array_value.data[:] = [option]
        return state

    async def _read(self) -> None:
        from streamlit.proto.ForwardMsg_pb2 import ForwardMsg

        async for data in self.ws:
            msg = ForwardMsg()
            msg.ParseFromString(data)
            kind = msg.WhichOneof("type")
            run_id = msg.metadata.run.script_run_id
            self.run_ids.add(run_id)
            ours = not run_id or run_id not in self.before
            if kind == "new_session":
                self.page_hash = msg.new_session.page_script_hash or self.page_hash
                if self.current is None or not self.current.fragment:
                    self.fragments.clear()  # a full run registers its fragments' timers again
            elif kind == "navigation":
                self.page_hash = msg.navigation.page_script_hash or self.page_hash
                self.pages.update({p.url_pathname: p.page_script_hash for p in msg.navigation.app_pages})
            elif kind == "page_info_changed":
                self.query = msg.page_info_changed.query_string
            elif kind == "auto_rerun":
                self.fragments[msg.auto_rerun.fragment_id] = msg.auto_rerun.interval
            elif kind == "delta" and msg.delta.WhichOneof("type") == "new_element":
                element = msg.delta.new_element
                typ = element.WhichOneof("type")
                proto = getattr(element, typ)
                if self.current is not None and ours:
                    self.current.elements.append((typ, proto))
                element_id = getattr(proto, "id", "")
                if element_id:
                    self.widgets[user_key(element_id) or element_id] = proto
                    if getattr(proto, "label", ""):
                        self.labelled[proto.label] = proto
            elif kind == "script_finished" and msg.script_finished in DONE and ours:
                if self.finished is not None and not self.finished.done():
                    self.finished.set_result(DONE[msg.script_finished])

    async def _tick(self) -> None:
        """Each fragment's timed rerun, as the browser's timer sends it."""
        due: dict[str, float] = {}
        while not self.closed:
            await asyncio.sleep(0.2)
            now = time.monotonic()
            for fragment, interval in list(self.fragments.items()):
                if due.setdefault((fragment, interval), now + interval) <= now:
                    due[fragment, interval] = now + interval
                    try:
                        await self.request(fragment=fragment, timeout=300)
                    except (asyncio.TimeoutError, Exception):  # a closed socket ends the session's timers
                        if self.closed:
                            return
