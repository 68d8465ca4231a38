"""SQLite on sqlite3, on the event loop's thread: transactions in one step, writers in turn."""

import asyncio
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest

from shoplab.platform.persistence.database import Database


async def _database(tmp_path: Path, name: str, *, fsync: bool = False) -> Database:
    database = Database(f"sqlite:///{tmp_path / name}", fsync=fsync)
    async with database.transaction() as sql:
        await sql.execute("CREATE TABLE IF NOT EXISTS t (x INTEGER, at DATETIME)")
    return database


async def _count(database: Database) -> int:
    async with database.transaction(read_only=True) as sql:
        row = await sql.one("SELECT count(*) FROM t")
    assert row is not None
    return int(row[0])


async def test_a_transaction_runs_in_one_step_of_the_loop(tmp_path: Path) -> None:
    """Nothing in a statement waits: no other task runs between BEGIN and COMMIT."""
    database = await _database(tmp_path, "step.db")
    steps = 0

    async def tick() -> None:
        nonlocal steps
        while True:
            steps += 1
            await asyncio.sleep(0)

    ticker = asyncio.create_task(tick())
    try:
        await asyncio.sleep(0)
        before = steps
        async with database.transaction() as sql:
            for value in range(100):
                await sql.execute("INSERT INTO t (x) VALUES (:x)", {"x": value})
        assert steps == before
        assert await _count(database) == 100
    finally:
        ticker.cancel()
        await database.dispose()


async def _insert_then_fail(database: Database) -> None:
    async with database.transaction() as sql:
        await sql.execute("INSERT INTO t (x) VALUES (1)")
        raise RuntimeError("undo")


async def test_a_rolled_back_transaction_leaves_nothing(tmp_path: Path) -> None:
    database = await _database(tmp_path, "rollback.db")
    try:
        with pytest.raises(RuntimeError):
            await _insert_then_fail(database)
        assert await _count(database) == 0
    finally:
        await database.dispose()


@pytest.mark.parametrize("fsync", [False, True])
async def test_writers_of_one_process_queue_in_order(tmp_path: Path, fsync: bool) -> None:
    """Writers that wait inside their transaction share the one connection in turn: none is
    lost, and (with ``fsync``) the COMMIT that runs on a thread keeps the turn too."""
    database = await _database(tmp_path, "queue.db", fsync=fsync)
    try:

        async def write(value: int) -> None:
            transaction = await database.begin()
            await transaction.sql.execute("INSERT INTO t (x) VALUES (:x)", {"x": value})
            await asyncio.sleep(0)
            await transaction.commit()

        await asyncio.gather(*(write(n) for n in range(50)))
        assert await _count(database) == 50
    finally:
        await database.dispose()


async def test_a_writer_waits_for_another_process_without_stalling_the_loop(
    tmp_path: Path,
) -> None:
    """Two databases on one file stand for two processes: the second writer waits on the loop,
    so the first (a task of the same loop) can finish; a wait on the thread would deadlock."""
    first = await _database(tmp_path, "two.db")
    second = await _database(tmp_path, "two.db")
    try:
        holding = asyncio.Event()

        async def hold_the_lock() -> None:
            transaction = await first.begin()
            await transaction.sql.execute("INSERT INTO t (x) VALUES (1)")
            holding.set()
            await asyncio.sleep(0.2)
            await transaction.commit()

        async def write_after() -> None:
            await holding.wait()
            async with second.transaction() as sql:
                await sql.execute("INSERT INTO t (x) VALUES (2)")

        await asyncio.wait_for(asyncio.gather(hold_the_lock(), write_after()), timeout=10)
        assert await _count(first) == 2
    finally:
        await first.dispose()
        await second.dispose()


async def test_a_reader_refuses_to_write(tmp_path: Path) -> None:
    database = await _database(tmp_path, "reader.db")
    try:
        with pytest.raises(Exception, match="readonly"):
            async with database.transaction(read_only=True) as sql:
                await sql.execute("INSERT INTO t (x) VALUES (1)")
    finally:
        await database.dispose()


async def test_times_come_back_as_utc_and_read_as_sqlalchemy_wrote_them(tmp_path: Path) -> None:
    """Files written before keep reading back: the text format is SQLAlchemy's, in UTC."""
    database = await _database(tmp_path, "times.db")
    moment = datetime(2026, 12, 7, 22, 30, 1, 250, tzinfo=UTC)
    elsewhere = moment.astimezone(timezone(timedelta(hours=-5)))
    try:
        async with database.transaction() as sql:
            await sql.execute("INSERT INTO t (x, at) VALUES (1, :at)", {"at": elsewhere})
            await sql.execute("INSERT INTO t (x, at) VALUES (2, '2026-12-07 22:30:01.000250')")
        async with database.transaction(read_only=True) as sql:
            rows = await sql.all("SELECT x, at FROM t ORDER BY x")
            stored = await sql.one("SELECT CAST(at AS TEXT) AS text FROM t WHERE x = 1")
        assert [row.at for row in rows] == [moment, moment]
        assert stored is not None
        assert stored.text == "2026-12-07 22:30:01.000250"
    finally:
        await database.dispose()


async def test_commits_are_checkpointed_off_the_loop(tmp_path: Path) -> None:
    """The writer runs no checkpoint itself; the checkpoint thread copies the log back into
    the database file soon after the commits, without any further commit."""
    database = await _database(tmp_path, "checkpointed.db")
    path = tmp_path / "checkpointed.db"
    try:
        async with database.transaction() as sql:
            row = await sql.one("PRAGMA wal_autocheckpoint")
            assert row is not None
            assert row[0] == 0, "the writer's commits never checkpoint"
        size_before = path.stat().st_size
        for batch in range(20):
            async with database.transaction() as sql:
                rows = [{"x": batch * 1000 + n} for n in range(1000)]
                await sql.execute_many("INSERT INTO t (x) VALUES (:x)", rows)
        deadline = asyncio.get_running_loop().time() + 5
        while path.stat().st_size <= size_before + 100_000:
            assert asyncio.get_running_loop().time() < deadline, "the log was not copied back"
            await asyncio.sleep(0.05)
        assert await _count(database) == 20_000
    finally:
        await database.dispose()
