"""Who is asking, without accounts: a browser's secret key, or a signed-in person, kept only as a hash.

The browser makes a key of 32 random bytes once and keeps it in its localStorage (ui/browser_key), so reloads
and tabs share it; the server sees it once per session and stores only SHA-256("browser:" + key). Anyone who
sends another key is someone else, who owns nothing yet. Where the server is configured for Streamlit's
`st.login`, the signed-in person's subject names them instead: SHA-256("user:" + subject).
"""
from __future__ import annotations

import hashlib
import hmac
import re
import secrets

KEY_PATTERN = re.compile(r"^[A-Za-z0-9_-]{43}$")  # secrets.token_urlsafe(32)


def new_key() -> str:
    """A fresh secret: 32 random bytes, URL-safe base64 (43 characters)."""
    return secrets.token_urlsafe(32)


def digest(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def of_browser(key) -> str | None:
    """The identity of a browser's key, or None for anything that is not one (missing, forged in form)."""
    if not isinstance(key, str) or not KEY_PATTERN.match(key):
        return None
    return digest("browser:" + key)


def of_user(subject: str) -> str:
    """The identity of a person signed in with st.login (their provider's stable subject)."""
    return digest("user:" + subject)


def same(secret: str, stored_digest: str) -> bool:
    """Whether `secret` hashes to `stored_digest`, in constant time."""
    return isinstance(secret, str) and hmac.compare_digest(digest("key:" + secret), stored_digest)


def key_digest(secret: str) -> str:
    """How a secret link key (a teacher's) is stored."""
    return digest("key:" + secret)
