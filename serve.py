"""`streamlit run serve.py`: app.py, served so that a page's own link asks the server nothing it cannot answer.

Opened at a page's link (/elbo), Streamlit's frontend does not know where the server is: it tries /elbo/_stcore/health
and /elbo/_stcore/host-config first (two 404s, streamlit/streamlit#7074), then /. The frontend reads the server's
address from `window.__streamlit.BACKEND_BASE_URL` when a page sets it before its scripts run; this middleware
writes that into the HTML of every page (the app's root, whatever `server.baseUrlPath` is). `streamlit run app.py`
works as well, with those two 404s per link.
"""
import streamlit as st
from starlette.middleware import Middleware

from streamlit import config


class BaseUrlHint:
    """ASGI middleware: the app's HTML gets a script naming the server's base URL before Streamlit's own."""

    def __init__(self, app):
        self.app = app

    @staticmethod
    def script() -> bytes:
        base = config.get_option("server.baseUrlPath").strip("/")
        base = f"/{base}/" if base else "/"
        return (b"<script>window.__streamlit = Object.assign(window.__streamlit || {}, "
                b"{BACKEND_BASE_URL: location.origin + '" + base.encode() + b"'});</script>")

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
                             + [(b"content-length", str(len(body)).encode())])
            await send(start)
            await send({"type": "http.response.body", "body": body})

        await self.app(scope, receive, rewrite)


app = st.App("app.py", middleware=[Middleware(BaseUrlHint)])
