"""SQLite calls on the event loop's thread: the same database behaviour, no thread hop."""

import asyncio
import threading
from pathlib import Path

import pytest
from sqlalchemy import text

from shoplab.platform.persistence.database import Database
from shoplab.platform.persistence.sqlite_inline import InlineConnection


async def _driver_connection(database: Database) -> object:
    async with database.engine.connect() as connection:
        raw = await connection.get_raw_connection()
        return raw.driver_connection


async def test_calls_run_on_the_loops_thread_and_commit(tmp_path: Path) -> None:
    database = Database(f"sqlite:///{tmp_path / 'inline.db'}")
    try:
        assert isinstance(await _driver_connection(database), InlineConnection)
        seen: list[str] = []

        def record_thread() -> int:
            seen.append(threading.current_thread().name)
            return 1

        async with database.sessions() as session:
            connection = await session.connection()
            driver = (await connection.get_raw_connection()).driver_connection
            assert driver is not None
            await driver.create_function("here", 0, record_thread)
            await session.execute(text("CREATE TABLE t (x INTEGER)"))
            await session.execute(text("INSERT INTO t VALUES (here())"))
            await session.commit()
        assert seen == [threading.current_thread().name]  # not aiosqlite's thread
        async with database.readers() as reader:
            assert (await reader.execute(text("SELECT count(*) FROM t"))).scalar() == 1
    finally:
        await database.dispose()


async def test_a_rolled_back_transaction_leaves_nothing(tmp_path: Path) -> None:
    database = Database(f"sqlite:///{tmp_path / 'rollback.db'}")
    try:
        async with database.sessions() as session:
            await session.execute(text("CREATE TABLE t (x INTEGER)"))
            await session.commit()
        async with database.sessions() as session:
            await session.execute(text("INSERT INTO t VALUES (1)"))
            await session.rollback()
        async with database.readers() as reader:
            assert (await reader.execute(text("SELECT count(*) FROM t"))).scalar() == 0
    finally:
        await database.dispose()


@pytest.mark.parametrize(("fsync", "inline"), [(True, True), (False, False)])
async def test_fsync_or_several_writers_keep_aiosqlites_thread(
    tmp_path: Path, fsync: bool, inline: bool
) -> None:
    database = Database(f"sqlite:///{tmp_path / 'thread.db'}", fsync=fsync, inline=inline)
    try:
        driver = await _driver_connection(database)
        assert not isinstance(driver, InlineConnection)
        async with database.sessions() as session:
            assert (await session.execute(text("SELECT 1"))).scalar() == 1
    finally:
        await database.dispose()


async def test_writers_still_queue_in_order(tmp_path: Path) -> None:
    """Concurrent writers share the one writer connection, as before: none is lost."""
    database = Database(f"sqlite:///{tmp_path / 'queue.db'}")
    try:
        async with database.sessions() as session:
            await session.execute(text("CREATE TABLE t (x INTEGER)"))
            await session.commit()

        async def write(value: int) -> None:
            async with database.sessions() as session:
                await session.execute(text("INSERT INTO t VALUES (:x)"), {"x": value})
                await asyncio.sleep(0)
                await session.commit()

        await asyncio.gather(*(write(n) for n in range(50)))
        async with database.readers() as reader:
            assert (await reader.execute(text("SELECT count(*) FROM t"))).scalar() == 50
    finally:
        await database.dispose()


async def test_a_writer_waits_for_another_of_this_process_without_stalling_the_loop(
    tmp_path: Path,
) -> None:
    """Two engines on one file in one process: the second writer waits on the loop, so the
    first (a task of the same loop) can finish; a busy wait on the thread would deadlock."""
    path = f"sqlite:///{tmp_path / 'two.db'}"
    first, second = Database(path), Database(path)
    try:
        async with first.sessions() as session:
            await session.execute(text("CREATE TABLE t (x INTEGER)"))
            await session.commit()
        holding = asyncio.Event()

        async def hold_the_lock() -> None:
            async with first.sessions() as session:
                await session.execute(text("INSERT INTO t VALUES (1)"))
                holding.set()
                await asyncio.sleep(0.2)
                await session.commit()

        async def write_after() -> None:
            await holding.wait()
            async with second.sessions() as session:
                await session.execute(text("INSERT INTO t VALUES (2)"))
                await session.commit()

        await asyncio.wait_for(asyncio.gather(hold_the_lock(), write_after()), timeout=10)
        async with first.readers() as reader:
            assert (await reader.execute(text("SELECT count(*) FROM t"))).scalar() == 2
    finally:
        await first.dispose()
        await second.dispose()
