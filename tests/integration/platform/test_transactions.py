"""Read-only and writing transactions on each database."""

import asyncio
from pathlib import Path

import pytest
from sqlalchemy import Column, Integer, MetaData, Table
from sqlalchemy.exc import DBAPIError

from shoplab.platform.persistence.database import Database
from shoplab.platform.persistence.unit_of_work import SqlUnitOfWork

from ..databases import fresh_database, skip_without_postgres

metadata = MetaData()
COUNTER = Table("lab_counter", metadata, Column("id", Integer, primary_key=True))


async def test_a_reader_does_not_wait_for_a_writer(database: Database) -> None:
    await database.run_sync(metadata.create_all)
    async with SqlUnitOfWork(database) as writer:
        await writer.sql.execute("INSERT INTO lab_counter (id) VALUES (1)")  # the write lock
        async with SqlUnitOfWork(database).read_only() as reader:
            rows = await asyncio.wait_for(reader.sql.all("SELECT id FROM lab_counter"), 2)
            assert rows == []  # the writer has not committed
        await writer.commit()


async def test_a_read_only_transaction_refuses_writes_on_postgres(tmp_path: Path) -> None:
    """SQLite has no READ ONLY transactions (shoplab only defers their lock): PostgreSQL only."""
    skip_without_postgres()
    async with fresh_database("postgres", tmp_path) as url:
        database = Database(url)
        try:
            await _refuses_writes(database)
        finally:
            await database.dispose()


async def _refuses_writes(database: Database) -> None:
    await database.run_sync(metadata.create_all)
    async with SqlUnitOfWork(database).read_only() as reader:
        with pytest.raises(DBAPIError, match="read-only"):
            await reader.sql.execute("INSERT INTO lab_counter (id) VALUES (1)")
