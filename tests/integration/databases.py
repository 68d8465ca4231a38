"""Real databases for integration tests: a SQLite file, and PostgreSQL when CI provides one."""

import os
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import asyncpg
import pytest
from sqlalchemy.engine import make_url

from shoplab.platform.persistence.database import Database

POSTGRES_ENV = "SHOPLAB_TEST_POSTGRES_URL"


def backends() -> list[str]:
    return ["sqlite", "postgres"]


def postgres_server() -> str | None:
    return os.environ.get(POSTGRES_ENV)


def skip_without_postgres() -> None:
    """On a laptop without PostgreSQL, skip; in CI, where it must run, fail instead."""
    if postgres_server() is not None:
        return
    if os.environ.get("CI"):
        pytest.fail(f"{POSTGRES_ENV} must be set in CI")
    pytest.skip(f"{POSTGRES_ENV} is not set (CI sets it to the machine's PostgreSQL)")


@asynccontextmanager
async def fresh_database(backend: str, folder: Path) -> AsyncIterator[str]:
    """Yield the URL of an empty database, dropped (PostgreSQL) or left in tmp (SQLite)."""
    if backend == "sqlite":
        yield f"sqlite:///{folder / 'test.db'}"
        return
    server = postgres_server()
    assert server is not None
    name = f"shoplab_it_{uuid.uuid4().hex[:12]}"
    admin = make_url(server).set(drivername="postgresql")
    dsn = admin.render_as_string(hide_password=False)
    connection = await asyncpg.connect(dsn)
    try:
        await connection.execute(f'CREATE DATABASE "{name}"')
        yield admin.set(database=name).render_as_string(hide_password=False)
    finally:
        await connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await connection.close()


async def count_rows(database: Database, table: str, where: str = "") -> int:
    """How many rows ``table`` holds (``where``: an SQL condition on them), committed."""
    async with database.transaction(read_only=True) as sql:
        row = await sql.one(f"SELECT count(*) FROM {table}" + (f" WHERE {where}" if where else ""))
    return int(row[0]) if row else 0
