"""A teacher's lessons: an ordered list of links to views of the app, each with a note, shared as one link
(`/lesson?lesson=CODE`) and, in a class, pinned on its page."""
from __future__ import annotations

import json
import secrets
import time
from dataclasses import dataclass
from urllib.parse import urlsplit

from sqlalchemy import insert, select

from . import Refused
from .classes import CODE_ALPHABET, CODE_LENGTH, Class, clean_text, normalise_code, teaches
from .db import lessons

MAX_STEPS = 30
MAX_NOTE = 500


@dataclass(frozen=True)
class Lesson:
    id: int
    code: str
    title: str
    steps: tuple  # ({"link": "/elbo?…", "note": "…"}, …)
    class_id: int | None


def check_link(link) -> str:
    """A step's link as stored: the path and query of an address of this app (any host: the same lesson serves
    every server of a class), or Refused."""
    if not isinstance(link, str) or not link.strip():
        raise Refused("A step needs a link: use “Share this view” on the page, then paste it here.")
    parts = urlsplit(link.strip())
    if parts.scheme not in ("", "http", "https") or not parts.path.startswith("/") or ".." in parts.path:
        raise Refused("A step's link is an address of this app, such as http://host:8501/elbo?elbo_sigma=0.5.")
    return parts.path + (f"?{parts.query}" if parts.query else "")


def create(engine, owner: str | None, title, steps: list[dict], klass: Class | None = None) -> Lesson:
    """A lesson of `steps` ([{"link", "note"}]) by `owner`, pinned on `klass` when they teach it."""
    if not owner:
        raise Refused("This browser has no identity yet: reload the page, then save the lesson.")
    title = clean_text(title, 80, "A lesson's title")
    if not steps:
        raise Refused("A lesson needs at least one step.")
    if len(steps) > MAX_STEPS:
        raise Refused(f"A lesson has at most {MAX_STEPS} steps.")
    kept = [{"link": check_link(step.get("link")),
             "note": clean_text(step.get("note") or "—", MAX_NOTE, f"Step {n}'s note")} for n, step in enumerate(steps, 1)]
    if klass is not None and not teaches(engine, klass, owner):
        raise Refused("Only the class's teacher can pin a lesson on it.")
    with engine.begin() as connection:
        code = "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))
        lesson_id = connection.execute(insert(lessons).values(
            code=code, owner=owner, class_id=klass.id if klass else None, title=title, steps=json.dumps(kept),
            created=time.time()).returning(lessons.c.id)).scalar_one()
    return Lesson(lesson_id, code, title, tuple(kept), klass.id if klass else None)


COLUMNS = (lessons.c.id, lessons.c.code, lessons.c.title, lessons.c.steps, lessons.c.class_id)


def _lesson(row) -> Lesson:
    return Lesson(row[0], row[1], row[2], tuple(json.loads(row[3])), row[4])


def find(engine, code) -> Lesson | None:
    code = normalise_code(code)
    if code is None:
        return None
    with engine.connect() as connection:
        row = connection.execute(select(*COLUMNS).where(lessons.c.code == code)).first()
    return _lesson(row) if row else None


def pinned(engine, klass: Class) -> list[Lesson]:
    with engine.connect() as connection:
        rows = connection.execute(select(*COLUMNS).where(lessons.c.class_id == klass.id).order_by(lessons.c.id))
        return [_lesson(row) for row in rows]


def by_owner(engine, owner: str | None) -> list[Lesson]:
    if not owner:
        return []
    with engine.connect() as connection:
        rows = connection.execute(select(*COLUMNS).where(lessons.c.owner == owner).order_by(lessons.c.id))
        return [_lesson(row) for row in rows]
