"""The database: one SQLAlchemy engine per URL and process, the schema, and its migrations.

SQLite under the app's state folder by default (WAL, a busy timeout, foreign keys on, every transaction
`BEGIN IMMEDIATE` so two writers queue instead of failing), or PostgreSQL by a URL
(`postgresql+psycopg://…`) when several app servers share one class. Queries are SQLAlchemy Core
statements: parameters are always bound, never formatted into SQL.

Streamlit runs a session's reruns, fragments and callbacks on different threads: the engine's pool hands
each thread its own connection, and `engine()` builds one engine per URL under a lock.
"""
from __future__ import annotations

import os
import sqlite3
import threading
import time
from pathlib import Path

from sqlalchemy import (Boolean, Column, Float, ForeignKey, Index, Integer, LargeBinary, MetaData, String, Table, Text,
                        UniqueConstraint, create_engine, event, false, inspect, literal, select, text,
                        update)
from sqlalchemy.engine import Engine

ROOT = Path(__file__).resolve().parent.parent
URL_VARIABLE = "VAE_DATABASE_URL"
STATE_VARIABLE = "VAE_STATE_DIR"
BUSY_TIMEOUT_MS = 30_000

metadata = MetaData()

schema_version = Table("schema_version", metadata, Column("version", Integer, nullable=False))

# A saved model: its checkpoint's bytes (a class on several servers reads them from here), owned by a browser or a
# signed-in person, as the SHA-256 of their secret: the database never holds the secret itself.
models = Table(
    "models", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("name", String(64), nullable=False, unique=True),
    Column("owner", String(64), nullable=False, index=True),
    Column("dataset", String(32), nullable=False),
    Column("sha256", String(64), nullable=False),
    Column("size", Integer, nullable=False),
    Column("data", LargeBinary, nullable=False),
    Column("created", Float, nullable=False),
)

classes = Table(
    "classes", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("code", String(8), nullable=False, unique=True),
    Column("title", String(80), nullable=False),
    Column("teacher_key", String(64), nullable=False),  # SHA-256 of the teacher link's secret
    Column("frozen", Boolean, nullable=False, default=False),
    Column("closed", Boolean, nullable=False, default=False),
    Column("created", Float, nullable=False),
)

# Who may run a class: the browser that created it, and each browser that opened its teacher link.
teachers = Table(
    "teachers", metadata,
    Column("class_id", Integer, ForeignKey("classes.id", ondelete="CASCADE"), primary_key=True),
    Column("identity", String(64), primary_key=True),
)

members = Table(
    "members", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("class_id", Integer, ForeignKey("classes.id", ondelete="CASCADE"), nullable=False),
    Column("identity", String(64), nullable=False),
    Column("name", String(32), nullable=False),
    Column("joined", Float, nullable=False),
    # The name's skeleton (classroom.names.key): "Ada", "ada" and "Аda" (Cyrillic А) share one; from schema 3
    Column("name_key", Text, nullable=False, server_default=""),
    # Its TR39 skeleton with case kept (classroom.names.look): "Ian" and "lan" share one; from schema 3
    Column("name_look", Text, nullable=False, server_default=""),
    UniqueConstraint("class_id", "identity", name="one_membership"),
    UniqueConstraint("class_id", "name", name="one_name_per_class"),
    Index("one_name_key_per_class", "class_id", "name_key", unique=True),
    Index("one_name_look_per_class", "class_id", "name_look", unique=True),
)

submissions = Table(
    "submissions", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("class_id", Integer, ForeignKey("classes.id", ondelete="CASCADE"), nullable=False),
    Column("member_id", Integer, ForeignKey("members.id", ondelete="CASCADE"), nullable=False),
    Column("model_id", Integer, ForeignKey("models.id", ondelete="CASCADE"), nullable=False),
    Column("hidden", Boolean, nullable=False, default=False),
    Column("created", Float, nullable=False),
    Column("latent_dim", Integer, nullable=False),
    Column("likelihood", String(16), nullable=False),
    Column("sigma_dec", Float),
    Column("beta", Float, nullable=False),
    Column("steps", Integer),
    Column("elbo", Float, nullable=False),
    Column("rate", Float, nullable=False),
    Column("distortion", Float, nullable=False),
    Column("log_px_iwae", Float, nullable=False),
    Column("iwae_images", Integer, nullable=False),
    Column("active_units", Integer, nullable=False),
    Column("pictures", LargeBinary, nullable=False),  # PNG: reconstructions and prior samples
    Column("figures", Text, nullable=False),  # everything the evaluation measured, as JSON
    UniqueConstraint("class_id", "model_id", name="one_submission_per_model"),
)


# Version 2's predictions (a student's answer to a question of the Learn path, and which questions the teacher
# revealed): kept here for _v2 and _v4 only, which copies them into polls and votes and drops them.
answers = Table(
    "answers", metadata,
    Column("class_id", Integer, ForeignKey("classes.id", ondelete="CASCADE"), primary_key=True),
    Column("member_id", Integer, ForeignKey("members.id", ondelete="CASCADE"), primary_key=True),
    Column("question", String(64), primary_key=True),
    Column("answer", String(80), nullable=False),
    Column("created", Float, nullable=False),
)

reveals = Table(
    "reveals", metadata,
    Column("class_id", Integer, ForeignKey("classes.id", ondelete="CASCADE"), primary_key=True),
    Column("question", String(64), primary_key=True),
    Column("created", Float, nullable=False),
)

# Peer instruction (classroom/polls, from v4; answers and reveals before): each question's phase in a class (0 vote 1
# open, 1 discussion, 2 vote 2 open, 3 revealed), whether the presenter view shows its counts, whether the teacher
# moved on; and each member's votes, round 1 and 2, with a confidence and the view each was cast on.
polls = Table(
    "polls", metadata,
    Column("class_id", Integer, ForeignKey("classes.id", ondelete="CASCADE"), primary_key=True),
    Column("question", String(64), primary_key=True),
    Column("phase", Integer, nullable=False, default=0),
    Column("shown", Boolean, nullable=False, default=False),
    Column("closed", Boolean, nullable=False, default=False),
    Column("updated", Float, nullable=False),
)

votes = Table(
    "votes", metadata,
    Column("class_id", Integer, ForeignKey("classes.id", ondelete="CASCADE"), primary_key=True),
    Column("member_id", Integer, ForeignKey("members.id", ondelete="CASCADE"), primary_key=True),
    Column("question", String(64), primary_key=True),
    Column("round", Integer, primary_key=True, autoincrement=False),
    Column("answer", String(80), nullable=False),
    Column("confidence", Integer),  # 1 guessing, 2 fairly sure, 3 sure; None: not asked (before v4)
    Column("model", String(64)),  # the view the vote was cast on: the model's name and the image
    Column("image", String(80)),
    Column("right", Boolean),  # judged on that view when cast; None: could not be
    Column("created", Float, nullable=False),
)

# A teacher's lesson: an ordered list of links, each with a note, shared as one link (`/lesson?lesson=CODE`) and
# pinned on a class's page.
lessons = Table(
    "lessons", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("code", String(8), nullable=False, unique=True),
    Column("owner", String(64), nullable=False, index=True),
    Column("class_id", Integer, ForeignKey("classes.id", ondelete="SET NULL")),
    Column("title", String(80), nullable=False),
    Column("steps", Text, nullable=False),  # JSON: [{"link": "/elbo?…", "note": "…"}, …]
    Column("created", Float, nullable=False),
)

# A saved model's measurement on the test split, queued apart from Save (classroom/scoring): one job per model, worked
# by a small pool in each server process; `holder` (host:pid:thread) and `heartbeat` let another process take the job
# of one that was killed. `result` (JSON) and `pictures` (PNG) are what a class board's entry needs.
scoring_jobs = Table(
    "scoring_jobs", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("model_id", Integer, ForeignKey("models.id", ondelete="CASCADE"), nullable=False, unique=True),
    Column("owner", String(64), nullable=False, index=True),
    Column("state", String(16), nullable=False, index=True),  # queued | running | done | failed
    Column("progress", Float, nullable=False, default=0.0),
    Column("attempts", Integer, nullable=False, default=0),
    Column("holder", String(160)),
    Column("heartbeat", Float),
    Column("created", Float, nullable=False),
    Column("started", Float),
    Column("finished", Float),
    Column("result", Text),
    Column("pictures", LargeBinary),
    Column("error", Text),
)

# "Submit to the class" of a model not measured yet: carried out by whoever finishes its measurement; a refusal then
# (the class frozen or closed meanwhile) is kept as `message` until its student has read it.
waiting_submissions = Table(
    "waiting_submissions", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("model_id", Integer, ForeignKey("models.id", ondelete="CASCADE"), nullable=False),
    Column("class_id", Integer, ForeignKey("classes.id", ondelete="CASCADE"), nullable=False),
    Column("identity", String(64), nullable=False),
    Column("state", String(16), nullable=False),  # waiting | submitting | refused
    Column("message", Text),
    Column("created", Float, nullable=False),
    Column("claimed", Float),  # when a worker began to submit it: one killed meanwhile leaves it to another
    UniqueConstraint("model_id", "class_id", name="one_wait_per_model_and_class"),
)



def _v1(connection) -> None:
    """The first schema: models, classes, their teachers and members, submissions."""
    metadata.create_all(connection, tables=[models, classes, teachers, members, submissions])


def _v2(connection) -> None:
    """Predictions before the reveal (answers, reveals), and teachers' lessons."""
    metadata.create_all(connection, tables=[answers, reveals, lessons])


def _v3(connection) -> None:
    """Display names unique under case folding and Unicode confusables (members.name_key, members.name_look). (Issue
    34, part 2.) The columns are added and filled in here (a fresh database has them from _v1); members who joined
    before, under names that now share a key, keep their names, their keys made distinct by their member id."""
    from .names import key, look

    found = {column["name"] for column in inspect(connection).get_columns("members")}
    for column in ("name_key", "name_look"):
        if column not in found:
            connection.execute(text(f"ALTER TABLE members ADD COLUMN {column} TEXT NOT NULL DEFAULT ''"))
    seen = set()
    rows = connection.execute(select(members.c.id, members.c.class_id, members.c.name).order_by(members.c.id)).all()
    for member_id, class_id, name in rows:
        values = {}
        for column, skeleton in (("name_key", key), ("name_look", look)):
            value = skeleton(name)
            if (class_id, column, value) in seen:
                value = f"{value}#{member_id}"
            seen.add((class_id, column, value))
            values[column] = value
        connection.execute(update(members).where(members.c.id == member_id).values(**values))
    indexes = {found["name"] for found in inspect(connection).get_indexes("members")}
    for index in members.indexes:
        if index.name in ("one_name_key_per_class", "one_name_look_per_class") and index.name not in indexes:
            index.create(connection)


def _v4(connection) -> None:
    """Peer instruction: two rounds of votes with a confidence, and each question's phase. (Issue 34, part 3.)
    New tables (a primary key cannot be altered in SQLite): each old answer becomes a round-1 vote (no confidence, no
    view), each old reveal a revealed poll; then answers and reveals go."""
    metadata.create_all(connection, tables=[polls, votes])
    connection.execute(votes.insert().from_select(
        ["class_id", "member_id", "question", "round", "answer", "created"],
        select(answers.c.class_id, answers.c.member_id, answers.c.question, literal(1), answers.c.answer,
               answers.c.created)))
    connection.execute(polls.insert().from_select(
        ["class_id", "question", "phase", "shown", "closed", "updated"],
        select(reveals.c.class_id, reveals.c.question, literal(3), false(), false(), reveals.c.created)))
    reveals.drop(connection)
    answers.drop(connection)


def _v5(connection) -> None:
    """Scoring queued apart from Save: a saved model's figures follow when measured. (Issue 34, part 4.)"""
    metadata.create_all(connection, tables=[scoring_jobs, waiting_submissions])


MIGRATIONS = [_v1, _v2, _v3, _v4, _v5]  # MIGRATIONS[k] takes the schema from version k to k + 1; append, never edit
SCHEMA_VERSION = len(MIGRATIONS)


def state_dir() -> Path:
    """The app's state folder: $VAE_STATE_DIR, else ./state in the project."""
    return Path(os.environ.get(STATE_VARIABLE) or ROOT / "state")


def default_url() -> str:
    """$VAE_DATABASE_URL, else SQLite in the state folder."""
    return os.environ.get(URL_VARIABLE) or f"sqlite:///{state_dir() / 'lab.sqlite3'}"


def _sqlite_setup(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def connect(dbapi_connection, _record):
        dbapi_connection.isolation_level = None  # SQLAlchemy's "begin" event below opens each transaction
        cursor = dbapi_connection.cursor()
        cursor.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
        _journal_wal(cursor)
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA synchronous=NORMAL")  # durable at each checkpoint of the WAL; never corrupt
        cursor.close()

    @event.listens_for(engine, "begin")
    def begin(connection):
        connection.exec_driver_sql("BEGIN IMMEDIATE")  # take the write lock now: writers queue, none fails later


def _journal_wal(cursor) -> None:
    """PRAGMA journal_mode=WAL, retried while refused: when several connections turn a new file to WAL at once (two
    servers starting on a fresh state folder), SQLite answers "database is locked" at once instead of waiting out the
    busy timeout (one try in six, four connections at once, here)."""
    deadline = time.monotonic() + BUSY_TIMEOUT_MS / 1000
    while True:
        try:
            cursor.execute("PRAGMA journal_mode=WAL")
            return
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or time.monotonic() > deadline:
                raise
            time.sleep(0.01)


_engines: dict[str, Engine] = {}
_lock = threading.Lock()


def engine(url: str | None = None) -> Engine:
    """The process's engine for `url` (default_url()), its schema migrated to SCHEMA_VERSION on first use."""
    url = url or default_url()
    with _lock:
        if url not in _engines:
            if url.startswith("sqlite:///"):
                Path(url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
                built = create_engine(url, connect_args={"check_same_thread": False, "timeout": BUSY_TIMEOUT_MS / 1000},
                                      pool_size=8, max_overflow=24)
                _sqlite_setup(built)
            else:
                built = create_engine(url, pool_size=8, max_overflow=24, pool_pre_ping=True)
            migrate(built)
            _engines[url] = built
        return _engines[url]


def forget(url: str | None = None) -> None:
    """Close and drop the engine for `url` (tests; a server restart does this by ending)."""
    with _lock:
        built = _engines.pop(url or default_url(), None)
    if built is not None:
        built.dispose()


def migrate(built: Engine) -> int:
    """Bring the schema to SCHEMA_VERSION, one migration at a time, in one transaction that holds the database's
    lock (two servers starting at once migrate once). Returns the version found before."""
    with built.begin() as connection:
        if connection.dialect.name == "postgresql":
            connection.execute(text("SELECT pg_advisory_xact_lock(424242)"))
        if not inspect(connection).has_table("schema_version"):
            schema_version.create(connection)
            connection.execute(schema_version.insert().values(version=0))
        found = connection.execute(select(schema_version.c.version)).scalar_one()
        if found > SCHEMA_VERSION:
            raise RuntimeError(f"the database's schema is version {found}, newer than this app's {SCHEMA_VERSION}: "
                               "update the app")
        for step in MIGRATIONS[found:]:
            step(connection)
        connection.execute(schema_version.update().values(version=SCHEMA_VERSION))
    return found
