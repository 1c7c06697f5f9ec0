"""`streamlit run serve.py`: app.py, served so that a page's own link asks the server nothing it cannot answer.

Opened at a page's link (/elbo), Streamlit's frontend does not know where the server is: it tries /elbo/_stcore/health
and /elbo/_stcore/host-config first (two 404s, streamlit/streamlit#7074), then /. The frontend reads the server's
address from `window.__streamlit.BACKEND_BASE_URL` when a page sets it before its scripts run; this middleware
writes that into the HTML of every page (the app's root, whatever `server.baseUrlPath` is). `streamlit run app.py`
works as well, with those two 404s per link.

A browser the app does not know yet (no key cookie) gets its key with the page (a Set-Cookie): its session's first
run knows whose models to list, where it used to run a second time when ui/browser_key reported a key made in the
browser. A returning browser whose cookie is gone keeps the key in its localStorage, and ui/browser_key reports that.

The page also imports Streamlit's Plotly chunk at once: by default the frontend asks for it only when the first chart
arrives, after the page's first run, and then downloads and evaluates 4.7 MB (0.7 s of the browser's main thread)
before it draws; now that happens while the server runs the page (benchmarks/app_startup.py: the first scatter 1.58x a
bare Streamlit + Plotly page before, 1.22x after, with the legacy-pages rerun below gone too).
"""
import functools
from pathlib import Path

import streamlit as st
from starlette.middleware import Middleware

from classroom import identity
from streamlit import config
from streamlit.runtime.pages_manager import PagesManager
from ui.browser_key import COOKIE, COOKIE_PATH, MAX_AGE


@functools.cache
def plotly_chunks() -> tuple[str, ...]:
    """The file name of the frontend's Plotly chunk in this Streamlit (PlotlyChart.<hash>.js), if it has one."""
    folder = Path(st.__file__).parent / "static" / "static" / "js"
    return tuple(sorted(path.name for path in folder.glob("PlotlyChart.*.js")))


def base_path() -> str:
    base = config.get_option("server.baseUrlPath").strip("/")
    return f"/{base}/" if base else "/"


def has_key(scope) -> bool:
    """Whether the request carries a browser key cookie of the right form."""
    from http.cookies import SimpleCookie

    header = b"; ".join(v for k, v in scope["headers"] if k.lower() == b"cookie").decode("latin-1")
    cookie = SimpleCookie()
    try:
        cookie.load(header)
    except Exception:  # a malformed Cookie header: as if none
        return False
    return COOKIE in cookie and identity.of_browser(cookie[COOKIE].value) is not None


def key_cookie() -> bytes:
    """A Set-Cookie header value proposing a fresh key (ui/browser_key keeps it, in localStorage too)."""
    return f"{COOKIE}={identity.new_key()}; Path={COOKIE_PATH}; Max-Age={MAX_AGE}; SameSite=Strict".encode()


class BaseUrlHint:
    """ASGI middleware: the app's HTML gets a script naming the server's base URL, and one importing Plotly's chunk,
    before Streamlit's own; a browser without a key gets one in a cookie."""

    def __init__(self, app):
        self.app = app

    @staticmethod
    def script() -> bytes:
        base = base_path()
        plotly = b"".join(b'<script type="module">import("' + base.encode() + b"static/js/" + name.encode()
                           + b'").catch(() => {})</script>' for name in plotly_chunks())
        return (b"<script>window.__streamlit = Object.assign(window.__streamlit || {}, "
                b"{BACKEND_BASE_URL: location.origin + '" + base.encode() + b"'});</script>" + plotly)

    @staticmethod
    def is_page(scope) -> bool:
        last = scope["path"].rsplit("/", 1)[-1]
        return scope["type"] == "http" and scope["method"] == "GET" and "/_stcore/" not in scope["path"] \
            and "/static/" not in scope["path"] and "/component/" not in scope["path"] and "." not in last

    async def __call__(self, scope, receive, send):
        if not self.is_page(scope):
            await self.app(scope, receive, send)
            return
        # Ask for the HTML uncompressed (Streamlit's gzip runs inside this middleware), then add the script.
        proposed = [] if has_key(scope) else [(b"set-cookie", key_cookie())]
        scope = dict(scope, headers=[(k, v) for k, v in scope["headers"] if k.lower() != b"accept-encoding"])
        start, parts = None, []

        async def rewrite(message):
            nonlocal start
            if message["type"] == "http.response.start":
                start = message
                return
            if message["type"] != "http.response.body":
                await send(message)
                return
            parts.append(message.get("body", b""))
            if message.get("more_body"):
                return
            body = b"".join(parts)
            headers = dict(start["headers"])
            if headers.get(b"content-type", b"").startswith(b"text/html") and b"<head>" in body:
                body = body.replace(b"<head>", b"<head>" + self.script(), 1)
                start = dict(start, headers=[(k, v) for k, v in start["headers"] if k.lower() != b"content-length"]
                             + [(b"content-length", str(len(body)).encode())] + proposed)
            await send(start)
            await send({"type": "http.response.body", "body": body})

        await self.app(scope, receive, rewrite)


# Every page goes through app.py's st.navigation. Streamlit would serve a fresh server's first deep link (say /explore)
# the legacy pages/ way, and ui/shell.require_app() would then rerun it through app.py: 0.7 s of the first page.
# Told before any session starts, it never does.
PagesManager.uses_pages_directory = False

app = st.App("app.py", middleware=[Middleware(BaseUrlHint)])
