"""Each integration test runs on SQLite, and on PostgreSQL when SHOPLAB_TEST_POSTGRES_URL is set."""

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from shoplab.platform.persistence.database import Database

from .databases import backends, fresh_database, skip_without_postgres


@pytest.fixture(params=backends())
async def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[str]:
    if request.param == "postgres":
        skip_without_postgres()
    async with fresh_database(request.param, tmp_path) as url:
        yield url


@pytest.fixture
async def database(database_url: str) -> AsyncIterator[Database]:
    db = Database(database_url)
    try:
        yield db
    finally:
        await db.dispose()
