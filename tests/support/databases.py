"""Fresh databases for the class store's tests: a SQLite file, or a new database on the PostgreSQL server that
$VAE_TEST_POSTGRES_URL names (.ci/run starts one; CI fails where it is missing, elsewhere those tests skip)."""
from __future__ import annotations

import contextlib
import os
import uuid

POSTGRES_VARIABLE = "VAE_TEST_POSTGRES_URL"


def postgres_server_url() -> str | None:
    return os.environ.get(POSTGRES_VARIABLE)


def require_postgres() -> str:
    import pytest

    url = postgres_server_url()
    if not url:
        if os.environ.get("CI"):
            raise RuntimeError(f"CI needs {POSTGRES_VARIABLE} (.ci/run starts a PostgreSQL server)")
        pytest.skip(f"{POSTGRES_VARIABLE} is not set: no PostgreSQL server to test against (see .ci/run)")
    return url


@contextlib.contextmanager
def fresh_database(kind: str, folder):
    """The URL of an empty database of `kind` ("sqlite" or "postgresql"), dropped after."""
    from classroom import db

    if kind == "sqlite":
        url = f"sqlite:///{folder / 'lab.sqlite3'}"
        try:
            yield url
        finally:
            db.forget(url)
        return
    import psycopg

    server = require_postgres()
    name = f"vae_test_{uuid.uuid4().hex[:12]}"
    plain = server.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(plain, autocommit=True) as connection:
        connection.execute(f'CREATE DATABASE "{name}"')
    url = server.rsplit("/", 1)[0] + "/" + name
    try:
        yield url
    finally:
        db.forget(url)
        with psycopg.connect(plain, autocommit=True) as connection:
            connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def schema_2(connection) -> None:
    """The class store as schema version 2 left it, on an empty database: version 1's and 2's tables as today's
    metadata has them, less what version 3 added to members (name_key, name_look and their indexes)."""
    from sqlalchemy import text

    from classroom import db

    db.schema_version.create(connection)
    connection.execute(db.schema_version.insert().values(version=2))
    db.MIGRATIONS[0](connection)
    db.MIGRATIONS[1](connection)
    for column in ("name_key", "name_look"):
        connection.execute(text(f"DROP INDEX one_{column}_per_class"))
        connection.execute(text(f"ALTER TABLE members DROP COLUMN {column}"))
