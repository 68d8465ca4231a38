"""A service's database: transactions on SQLite (the default) or PostgreSQL.

``Database.begin()`` opens a transaction and hands back its statements (``sql.Sql``).

SQLite runs on ``sqlite3`` itself, on the event loop's thread (see ``sql``), tuned for a
service's write path: WAL journal, ``synchronous=NORMAL`` (durable against a process
crash; ``fsync=True`` survives a power loss too), and ``BEGIN IMMEDIATE`` so that a
writing transaction takes the write lock up front instead of failing with
``SQLITE_BUSY`` when it upgrades a read to a write. SQLite admits one writer at a time:
the process's writers share one connection and queue for it in order (an
``asyncio.Lock``), instead of sleeping in SQLite's busy handler. A transaction whose
statements never wait holds it for one step of the loop. Another *process* holding the
lock (a second worker, a command of the CLI) is waited for on the loop, with short
sleeps, never by blocking it. Reading transactions begin deferred on connections of
their own, which never wait for the writer and refuse to write.

With ``fsync`` each commit waits for the disk, so the COMMIT runs on a thread and the
loop goes on meanwhile.

PostgreSQL runs on an async SQLAlchemy engine (asyncpg), with at most ``pool_size``
connections per process: the bound that keeps a run of ten processes under the server's
``max_connections`` at any load. Its reading transactions are ``READ ONLY``.

SQLAlchemy also describes every schema and runs the Alembic migrations (``run_sync``): on
SQLite through a synchronous engine opened for the purpose (the migrations run once, as
the process starts), on PostgreSQL through the async engine.
"""

import asyncio
import sqlite3
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any, Protocol, TypeVar

from sqlalchemy import Connection, create_engine, text
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext import asyncio as sqlalchemy_asyncio
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine
from sqlalchemy.pool import NullPool

from shoplab.platform.persistence.checkpoints import Checkpointer
from shoplab.platform.persistence.handoff import Handoff
from shoplab.platform.persistence.sql import AsyncSql, Sql, SqliteSql, TracedSql, named_row

_DRIVERS = {"sqlite": "sqlite", "postgresql": "postgresql+asyncpg"}
SQLITE_BUSY_SECONDS = 30.0
"""How long a writer waits for another process to release SQLite's write lock."""
FIRST_PAUSE_SECONDS = 0.0005
LONGEST_PAUSE_SECONDS = 0.02
T = TypeVar("T")
DEFAULT_POOL_SIZE = 8
"""PostgreSQL connections per process (``SHOPLAB_DATABASE_POOL_SIZE``)."""


def driver_url(url: str) -> str:
    """Accept plain ``sqlite:///`` and ``postgresql://`` URLs; pick the driver (asyncpg)."""
    parsed = make_url(url)
    backend = parsed.get_backend_name()
    if backend not in _DRIVERS:
        raise ValueError(f"unsupported database {backend!r}: use sqlite or postgresql")
    return parsed.set(drivername=_DRIVERS[backend]).render_as_string(hide_password=False)


class Transaction(Protocol):
    """One open transaction: its statements, then ``commit()`` or ``rollback()``, once."""

    sql: Sql
    info: dict[str, Any]
    """What the units of work sharing it keep until it ends (callbacks after commit)."""

    async def commit(self) -> None: ...

    async def rollback(self) -> None: ...


class Database:
    """A service's database, and the handoff of its committed outbox rows to the relay."""

    def __init__(
        self,
        url: str,
        *,
        fsync: bool = False,
        pool_size: int = DEFAULT_POOL_SIZE,
        trace_statements: bool = False,
    ) -> None:
        """``trace_statements``: a span per SQL statement (``SHOPLAB_TRACE_SQL``)."""
        self.url = driver_url(url)
        self.trace_statements = trace_statements
        self.is_sqlite = self.url.startswith("sqlite")
        self.fsync = fsync
        self.pool_size = pool_size
        self._engine: AsyncEngine | None = None
        self._sqlite = _SqliteFile(_sqlite_path(self.url), fsync=fsync) if self.is_sqlite else None
        self.handoff = Handoff()

    @property
    def engine(self) -> AsyncEngine:
        """SQLAlchemy's async engine: PostgreSQL's connections (SQLite has none)."""
        if self.is_sqlite:
            raise RuntimeError("SQLite runs on sqlite3: use begin(), transaction() or run_sync()")
        if self._engine is None:
            options: dict[str, Any] = {
                "pool_size": self.pool_size,
                "max_overflow": 0,
                "pool_pre_ping": True,
            }
            if self.fsync:  # insist, whatever the server's own default says
                options["connect_args"] = {"server_settings": {"synchronous_commit": "on"}}
            self._engine = sqlalchemy_asyncio.create_async_engine(self.url, **options)
        return self._engine

    async def run_sync(self, work: Callable[[Connection], T]) -> T:
        """Run SQLAlchemy work (a migration, DDL, inspection) in one transaction.

        On SQLite a synchronous engine is opened for it and closed after: this blocks the
        loop for as long as the work takes, which is fine at a process's start, where
        migrations run, and nowhere else.
        """
        if self.is_sqlite:
            engine = create_engine(self.url, poolclass=NullPool)
            try:
                with engine.begin() as connection:
                    return work(connection)
            finally:
                engine.dispose()
        async with self.engine.begin() as connection:
            return await connection.run_sync(work)

    async def begin(self, *, read_only: bool = False) -> Transaction:
        """Open a transaction: a writing one waits for this process's other writers."""
        transaction = await self._begin(read_only=read_only)
        if self.trace_statements:
            system = "sqlite" if self.is_sqlite else "postgresql"
            transaction.sql = TracedSql(transaction.sql, system)
        return transaction

    async def _begin(self, *, read_only: bool) -> Transaction:
        if self._sqlite is not None:
            return await self._sqlite.begin(read_only=read_only)
        connection = await self.engine.connect()
        try:
            if read_only:
                connection = await connection.execution_options(postgresql_readonly=True)
            await connection.begin()
        except BaseException:
            await connection.close()
            raise
        return _PostgresTransaction(connection)

    @asynccontextmanager
    async def transaction(self, *, read_only: bool = False) -> AsyncIterator[Sql]:
        """A transaction for chassis code that needs no unit of work: it commits when the
        block ends normally (a reading one just ends), and rolls back when it raises."""
        transaction = await self.begin(read_only=read_only)
        try:
            yield transaction.sql
        except BaseException:
            await transaction.rollback()
            raise
        if read_only:
            await transaction.rollback()
        else:
            await transaction.commit()

    async def ping(self) -> bool:
        """True when a trivial query answers: the readiness probe."""
        try:
            async with self.transaction(read_only=True) as sql:
                await sql.one("SELECT 1")
        except Exception:
            return False
        return True

    async def dispose(self) -> None:
        if self._sqlite is not None:
            self._sqlite.close()
        if self._engine is not None:
            await self._engine.dispose()


class _PostgresTransaction:
    def __init__(self, connection: AsyncConnection) -> None:
        self._connection = connection
        self.sql: Sql = AsyncSql(connection)
        self.info: dict[str, Any] = {}

    async def commit(self) -> None:
        try:
            await self._connection.commit()
        finally:
            await self._connection.close()

    async def rollback(self) -> None:
        try:
            await self._connection.rollback()
        finally:
            await self._connection.close()


class _SqliteFile:
    """One SQLite file: a writing connection shared in turn, and reading connections."""

    def __init__(self, path: str, *, fsync: bool) -> None:
        self._path = path
        self._fsync = fsync
        self._writer: sqlite3.Connection | None = None
        self._writing = asyncio.Lock()
        self._idle_readers: list[sqlite3.Connection] = []
        self._readers: list[sqlite3.Connection] = []
        self._checkpoints: Checkpointer | None = None

    async def begin(self, *, read_only: bool) -> Transaction:
        if read_only:
            reader = self._idle_readers.pop() if self._idle_readers else self._open(reader=True)
            reader.execute("BEGIN")
            return _SqliteTransaction(reader, release=lambda: self._idle_readers.append(reader))
        await self._writing.acquire()
        try:
            if self._writer is None:
                self._writer = self._open(reader=False)
            await _begin_immediate(self._writer)
        except BaseException:
            self._writing.release()
            raise
        return _SqliteTransaction(
            self._writer,
            release=self._writing.release,
            fsync=self._fsync,
            committed=self._checkpoints.changed if self._checkpoints else None,
        )

    def _open(self, *, reader: bool) -> sqlite3.Connection:
        connection = sqlite3.connect(
            self._path,
            timeout=0,  # a lock held by another process is waited for on the loop
            isolation_level=None,  # transactions are begun here, explicitly
            check_same_thread=False,  # an fsync'd COMMIT runs on a thread
            detect_types=sqlite3.PARSE_DECLTYPES,
            cached_statements=512,
        )
        connection.row_factory = named_row
        connection.execute("PRAGMA journal_mode=WAL")
        connection.execute(f"PRAGMA synchronous={'FULL' if self._fsync else 'NORMAL'}")
        connection.execute("PRAGMA foreign_keys=ON")
        if reader:
            connection.execute("PRAGMA query_only=ON")
            self._readers.append(connection)
        elif self._path != ":memory:":
            connection.execute("PRAGMA wal_autocheckpoint=0")  # see ``checkpoints``
            self._checkpoints = Checkpointer(self._path)
        return connection

    def close(self) -> None:
        for connection in [*self._readers, *([self._writer] if self._writer else [])]:
            connection.close()
        if self._checkpoints is not None:
            self._checkpoints.close()
            self._checkpoints = None
        self._readers.clear()
        self._idle_readers.clear()
        self._writer = None


class _SqliteTransaction:
    def __init__(
        self,
        connection: sqlite3.Connection,
        *,
        release: Callable[[], None],
        fsync: bool = False,
        committed: Callable[[], None] | None = None,
    ) -> None:
        self._connection = connection
        self._release = release
        self._fsync = fsync
        self._committed = committed
        self.sql: Sql = SqliteSql(connection)
        self.info: dict[str, Any] = {}

    async def commit(self) -> None:
        try:
            if self._fsync:
                await asyncio.to_thread(self._connection.execute, "COMMIT")
            else:
                self._connection.execute("COMMIT")
        except BaseException:
            self._end("ROLLBACK")
            raise
        self._release()
        if self._committed is not None:
            self._committed()

    async def rollback(self) -> None:
        self._end("ROLLBACK")

    def _end(self, statement: str) -> None:
        try:
            if self._connection.in_transaction:
                self._connection.execute(statement)
        finally:
            self._release()


async def _begin_immediate(connection: sqlite3.Connection) -> None:
    """Take the write lock; while another process holds it, wait on the loop and retry.

    A failed ``BEGIN IMMEDIATE`` changed nothing, so trying it again is safe.
    """
    loop = asyncio.get_running_loop()
    give_up = loop.time() + SQLITE_BUSY_SECONDS
    pause = FIRST_PAUSE_SECONDS
    while True:
        try:
            connection.execute("BEGIN IMMEDIATE")
            return
        except sqlite3.OperationalError as error:
            if "locked" not in str(error) or loop.time() >= give_up:
                raise
        await asyncio.sleep(pause)
        pause = min(pause * 2, LONGEST_PAUSE_SECONDS)


def _sqlite_path(url: str) -> str:
    return make_url(url).database or ":memory:"


async def ensure_database(url: str) -> None:
    """Create the PostgreSQL database that ``url`` names when the server lacks it.

    A user points shoplab at a server and a database name; the first start makes
    the database. The server's ``postgres`` database is used only when the
    target is missing. SQLite creates its file by itself.
    """
    target = make_url(driver_url(url))
    if target.get_backend_name() != "postgresql" or not target.database:
        return
    if await _can_connect(target):
        return
    maintenance = sqlalchemy_asyncio.create_async_engine(
        target.set(database="postgres"), isolation_level="AUTOCOMMIT", poolclass=NullPool
    )
    try:
        async with maintenance.connect() as connection:
            quoted = connection.dialect.identifier_preparer.quote(target.database)
            await connection.execute(text(f"CREATE DATABASE {quoted}"))
    finally:
        await maintenance.dispose()


async def _can_connect(url: URL) -> bool:
    """False only when the server says the database does not exist (SQLSTATE 3D000)."""
    engine = sqlalchemy_asyncio.create_async_engine(url, poolclass=NullPool)
    try:
        async with engine.connect():
            return True
    except DBAPIError as error:
        if getattr(error.orig, "sqlstate", None) == "3D000" or "does not exist" in str(error):
            return False
        raise
    finally:
        await engine.dispose()
