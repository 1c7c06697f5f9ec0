"""The class store's tests run on SQLite and on PostgreSQL: `url`, a fresh database of each kind, and its `engine`
(a module may define its own)."""
import pytest

from classroom import db
from tests.support.databases import fresh_database


@pytest.fixture(params=["sqlite", "postgresql"])
def url(request, tmp_path):
    with fresh_database(request.param, tmp_path) as url:
        yield url


@pytest.fixture
def engine(url):
    return db.engine(url)
