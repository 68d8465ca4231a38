"""Async SQLAlchemy engines for SQLite (the default) and PostgreSQL.

SQLite is tuned for a service's write path: WAL journal, ``synchronous=NORMAL``
(durable against a process crash; ``fsync=True`` survives a power loss too),
and ``BEGIN IMMEDIATE`` so that a writing transaction takes the write lock up
front instead of failing with ``SQLITE_BUSY`` when it upgrades a read to a write.
Read-only transactions (``Database.readers``) begin deferred and never wait for
writers; on PostgreSQL they are ``READ ONLY``, so a stray write fails loudly.
"""

import asyncio
from functools import partial
from typing import Any

from sqlalchemy import event, text
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext import asyncio as sqlalchemy_asyncio
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker
from sqlalchemy.pool import NullPool

from shoplab.platform.persistence.sqlite_inline import connect_inline

READ_ONLY = "shoplab_read_only"
_ASYNC_DRIVERS = {"sqlite": "sqlite+aiosqlite", "postgresql": "postgresql+asyncpg"}


def async_url(url: str) -> str:
    """Accept plain ``sqlite:///`` and ``postgresql://`` URLs; pick the async driver."""
    parsed = make_url(url)
    backend = parsed.get_backend_name()
    if backend not in _ASYNC_DRIVERS:
        raise ValueError(f"unsupported database {backend!r}: use sqlite or postgresql")
    return parsed.set(drivername=_ASYNC_DRIVERS[backend]).render_as_string(hide_password=False)


SQLITE_BUSY_SECONDS = 30
DEFAULT_POOL_SIZE = 8
"""PostgreSQL connections per process (``SHOPLAB_DATABASE_POOL_SIZE``)."""


class Database:
    """Engines, their session factories, and the signal that wakes the outbox relay.

    SQLite admits one writer at a time. Writers here share a pool of one
    connection, so they queue in order inside the process instead of sleeping
    in SQLite's busy handler (whose growing sleeps make a long latency tail);
    readers get their own pool and never wait. On PostgreSQL both factories
    share one pool of at most ``pool_size`` connections: a request that finds them
    all busy waits for one. The bound is what keeps a run of ten processes under
    the server's ``max_connections`` (100 by default) at any load.
    """

    def __init__(
        self,
        url: str,
        *,
        fsync: bool = False,
        pool_size: int = DEFAULT_POOL_SIZE,
        inline: bool = True,
    ) -> None:
        """``inline``: SQLite calls run on the loop's thread (see ``sqlite_inline``), unless
        ``fsync`` makes each commit wait for the disk."""
        self.url = async_url(url)
        self.is_sqlite = self.url.startswith("sqlite")
        self.fsync = fsync
        self.inline = inline and not fsync
        self.pool_size = pool_size
        # Looked up at call time: SQL tracing (telemetry.tracing) wraps it when the
        # process starts, after this module was imported.
        self.engine: AsyncEngine = sqlalchemy_asyncio.create_async_engine(
            self.url, **self._engine_options(writer=True)
        )
        read_options = {READ_ONLY: True, "postgresql_readonly": not self.is_sqlite}
        if self.is_sqlite:
            self.read_engine = sqlalchemy_asyncio.create_async_engine(
                self.url, **self._engine_options(writer=False)
            )
            for engine in (self.engine, self.read_engine):
                _tune_sqlite(engine, fsync=fsync, busy_seconds=0 if self.inline else None)
        else:
            self.read_engine = self.engine
        self.sessions = async_sessionmaker(self.engine, expire_on_commit=False)
        self.readers = async_sessionmaker(
            self.read_engine.execution_options(**read_options), expire_on_commit=False
        )
        self.outbox_written = asyncio.Event()

    def _engine_options(self, *, writer: bool) -> dict[str, Any]:
        if not self.is_sqlite:
            options: dict[str, Any] = {
                "pool_size": self.pool_size,
                "max_overflow": 0,
                "pool_pre_ping": True,
            }
            if self.fsync:  # insist, whatever the server's own default says
                options["connect_args"] = {"server_settings": {"synchronous_commit": "on"}}
            return options
        sqlite_options: dict[str, Any] = {"connect_args": {"timeout": SQLITE_BUSY_SECONDS}}
        if self.inline:  # see sqlite_inline: no thread hop per call
            path = make_url(self.url).database or ":memory:"
            sqlite_options["async_creator"] = partial(
                connect_inline, path, busy_seconds=SQLITE_BUSY_SECONDS
            )
        if writer:
            sqlite_options.update(pool_size=1, max_overflow=0, pool_timeout=60)
        return sqlite_options

    async def ping(self) -> bool:
        """True when a trivial query answers: the readiness probe."""
        try:
            async with self.readers() as session:
                await session.execute(text("SELECT 1"))
        except Exception:
            return False
        return True

    async def dispose(self) -> None:
        await self.engine.dispose()
        if self.read_engine is not self.engine:
            await self.read_engine.dispose()


def _tune_sqlite(engine: AsyncEngine, *, fsync: bool, busy_seconds: float | None) -> None:
    """``busy_seconds``: SQLite's own wait for a lock (None: ``SQLITE_BUSY_SECONDS``; 0 when
    the calls run inline, which wait on the loop instead, see ``sqlite_inline``)."""
    wait = SQLITE_BUSY_SECONDS if busy_seconds is None else busy_seconds

    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None  # we emit BEGIN ourselves
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA synchronous={'FULL' if fsync else 'NORMAL'}")
        cursor.execute(f"PRAGMA busy_timeout={int(wait * 1000)}")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(connection: Any) -> None:
        reading = connection.get_execution_options().get(READ_ONLY, False)
        connection.exec_driver_sql("BEGIN" if reading else "BEGIN IMMEDIATE")


async def ensure_database(url: str) -> None:
    """Create the PostgreSQL database that ``url`` names when the server lacks it.

    A user points shoplab at a server and a database name; the first start makes
    the database. The server's ``postgres`` database is used only when the
    target is missing. SQLite creates its file by itself.
    """
    target = make_url(async_url(url))
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
