"""Statements at the driver's speed: fixed SQL text with ``:name`` parameters.

A repository writes its SQL once, as text, in the dialect SQLite and PostgreSQL share
(named parameters, ``ON CONFLICT DO NOTHING``, ``RETURNING``), and runs it through
``Sql``, the statements of one transaction. Rows come back as tuples whose columns are
also attributes (``row.order_id``).

Two drivers implement it:

- ``SqliteSql`` runs each statement on a ``sqlite3`` connection, in place. sqlite3 keeps
  the prepared statement of each SQL text it has seen, so an insert by key costs about
  15 µs, where the same statement through SQLAlchemy's async session cost 300 µs.
  Nothing in a statement waits, so a transaction runs in one step of the event loop.
- ``AsyncSql`` runs them on an async SQLAlchemy connection (PostgreSQL, through asyncpg):
  a network round trip per statement, so there the awaiting is real.

Types cross the seam as Python values: ``datetime`` (timezone-aware UTC), ``int``,
``str``, ``bool`` (read back as ``0``/``1`` from SQLite: wrap it in ``bool()``), ``None``.
JSON columns are written and read as text (``json_text``/``from_json``), so both
drivers see the same bytes. SQLite stores a time as the text SQLAlchemy's SQLite dialect
writes (``2026-12-07 21:00:00.123456``, UTC), so files written before keep reading back.
"""

import sqlite3
from collections import namedtuple
from collections.abc import AsyncIterator, Iterator, Mapping, Sequence
from contextlib import AbstractAsyncContextManager, asynccontextmanager, contextmanager
from datetime import UTC, datetime
from functools import cache
from typing import Any, Protocol

import orjson
from opentelemetry import trace
from opentelemetry.trace import SpanKind
from sqlalchemy import TextClause, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection

_tracer = trace.get_tracer("shoplab.database")

Params = Mapping[str, Any]
Row = Any
"""A tuple whose columns are also attributes: ``row.order_id``."""


class Sql(Protocol):
    """The statements of one transaction."""

    for_update: str
    """Append to a SELECT to lock the rows it reads: `` FOR UPDATE`` on PostgreSQL; empty
    on SQLite, whose writing transaction already holds the whole database."""

    async def execute(self, statement: str, params: Params | None = None) -> int:
        """Run an INSERT, UPDATE or DELETE; returns how many rows it changed."""
        ...

    async def execute_many(self, statement: str, rows: Sequence[Params]) -> None:
        """Run one statement once per parameter set."""
        ...

    async def one(self, statement: str, params: Params | None = None) -> Row | None:
        """The first row, or ``None``."""
        ...

    async def all(self, statement: str, params: Params | None = None) -> list[Row]: ...

    def savepoint(self) -> AbstractAsyncContextManager[None]:
        """A part of the transaction that can fail alone: leaving the block by an exception
        undoes the statements run inside it (``ROLLBACK TO SAVEPOINT``), and only those."""
        ...


class ConstraintViolated(Exception):
    """A statement broke a unique key or another constraint (either driver's error)."""


class SavepointLost(Exception):
    """The database ended the whole transaction under a savepoint: nothing of it can commit."""


class _Savepoints:
    """``SAVEPOINT``/``RELEASE``/``ROLLBACK TO`` for either driver (both speak the same SQL).

    Named by depth, so the same few texts recur and each is prepared once.
    """

    _depth = 0

    async def execute(self, statement: str, params: Params | None = None) -> int:
        raise NotImplementedError

    @asynccontextmanager
    async def savepoint(self) -> AsyncIterator[None]:
        self._depth += 1
        name = f"shoplab_{self._depth}"
        try:
            await self.execute(f"SAVEPOINT {name}")
            try:
                yield
            except BaseException:
                try:
                    await self.execute(f"ROLLBACK TO SAVEPOINT {name}")
                    await self.execute(f"RELEASE SAVEPOINT {name}")
                except Exception as error:
                    raise SavepointLost(repr(error)) from error
                raise
            await self.execute(f"RELEASE SAVEPOINT {name}")
        finally:
            self._depth -= 1


def in_list(name: str, values: Sequence[Any]) -> tuple[str, dict[str, Any]]:
    """``IN (...)`` for a list of values: the placeholders and their parameters.

    Each length is its own SQL text, so each is prepared once. Never empty: PostgreSQL
    refuses ``IN ()``, so ask nothing when there is nothing to ask about.
    """
    if not values:
        raise ValueError(f"an empty list for IN ({name})")
    keys = [f"{name}_{index}" for index in range(len(values))]
    return ", ".join(f":{key}" for key in keys), dict(zip(keys, values, strict=True))


def json_text(value: Any) -> str:
    """A JSON column's value as the text both drivers store."""
    return orjson.dumps(value).decode()


def from_json(stored: str | bytes | Any) -> Any:
    """A JSON column read back (text from the drivers, already decoded from old rows)."""
    if isinstance(stored, str | bytes):
        return orjson.loads(stored)
    return stored


class SqliteSql(_Savepoints):
    """``Sql`` on a sqlite3 connection: every call runs in place, nothing is awaited."""

    for_update = ""

    def __init__(self, connection: sqlite3.Connection) -> None:
        self._connection = connection

    async def execute(self, statement: str, params: Params | None = None) -> int:
        try:
            return self._connection.execute(statement, params or {}).rowcount
        except sqlite3.IntegrityError as error:
            raise ConstraintViolated(str(error)) from error

    async def execute_many(self, statement: str, rows: Sequence[Params]) -> None:
        try:
            self._connection.executemany(statement, rows)
        except sqlite3.IntegrityError as error:
            raise ConstraintViolated(str(error)) from error

    async def one(self, statement: str, params: Params | None = None) -> Row | None:
        return self._connection.execute(statement, params or {}).fetchone()

    async def all(self, statement: str, params: Params | None = None) -> list[Row]:
        return self._connection.execute(statement, params or {}).fetchall()


class AsyncSql(_Savepoints):
    """``Sql`` on an async SQLAlchemy connection (PostgreSQL)."""

    for_update = " FOR UPDATE"

    def __init__(self, connection: AsyncConnection) -> None:
        self._connection = connection

    async def execute(self, statement: str, params: Params | None = None) -> int:
        try:
            result = await self._connection.execute(_text(statement), params or {})
        except IntegrityError as error:
            raise ConstraintViolated(str(error.orig)) from error
        return int(result.rowcount)

    async def execute_many(self, statement: str, rows: Sequence[Params]) -> None:
        if not rows:
            return
        try:
            await self._connection.execute(_text(statement), list(rows))
        except IntegrityError as error:
            raise ConstraintViolated(str(error.orig)) from error

    async def one(self, statement: str, params: Params | None = None) -> Row | None:
        return (await self._connection.execute(_text(statement), params or {})).first()

    async def all(self, statement: str, params: Params | None = None) -> list[Row]:
        return list(await self._connection.execute(_text(statement), params or {}))


@cache
def _text(statement: str) -> TextClause:
    """One ``text()`` per SQL text, so SQLAlchemy compiles each statement once."""
    return text(statement)


class TracedSql:
    """``Sql`` with a span per statement (``SHOPLAB_TRACE_SQL=true``), for a close look at
    one query; each unit of work already makes a span per transaction."""

    def __init__(self, inner: Sql, system: str) -> None:
        self._inner = inner
        self._system = system
        self.for_update = inner.for_update

    @contextmanager
    def _span(self, statement: str) -> Iterator[None]:
        verb = statement.split(None, 1)[0].upper()
        attributes = {"db.system.name": self._system, "db.statement": statement}
        with _tracer.start_as_current_span(verb, kind=SpanKind.CLIENT, attributes=attributes):
            yield

    async def execute(self, statement: str, params: Params | None = None) -> int:
        with self._span(statement):
            return await self._inner.execute(statement, params)

    async def execute_many(self, statement: str, rows: Sequence[Params]) -> None:
        with self._span(statement):
            await self._inner.execute_many(statement, rows)

    async def one(self, statement: str, params: Params | None = None) -> Row | None:
        with self._span(statement):
            return await self._inner.one(statement, params)

    async def all(self, statement: str, params: Params | None = None) -> list[Row]:
        with self._span(statement):
            return await self._inner.all(statement, params)

    def savepoint(self) -> AbstractAsyncContextManager[None]:
        return self._inner.savepoint()


# SQLite: how times are stored and read back, and rows with named columns.

SQLITE_TIME = "DATETIME"
"""The declared type of every time column in shoplab's SQLite files."""


def _time_to_sqlite(moment: datetime) -> str:
    if moment.tzinfo is not None:
        moment = moment.astimezone(UTC).replace(tzinfo=None)
    return moment.isoformat(sep=" ", timespec="microseconds")


def _time_from_sqlite(stored: bytes) -> datetime:
    return datetime.fromisoformat(stored.decode()).replace(tzinfo=UTC)


sqlite3.register_adapter(datetime, _time_to_sqlite)
sqlite3.register_converter(SQLITE_TIME, _time_from_sqlite)


@cache
def _row_type(columns: tuple[str, ...]) -> Any:
    return namedtuple("Row", columns, rename=True)


def named_row(cursor: sqlite3.Cursor, values: tuple[Any, ...]) -> Row:
    """sqlite3's ``row_factory``: a tuple whose columns are attributes too."""
    return _row_type(tuple(column[0] for column in cursor.description))._make(values)


def time_from_text(stored: datetime | str | None) -> datetime | None:
    """A time an aggregate (``min(created_at)``) returned: SQLite gives it as text."""
    if stored is None or isinstance(stored, datetime):
        return stored if stored is None or stored.tzinfo else stored.replace(tzinfo=UTC)
    return datetime.fromisoformat(stored).replace(tzinfo=UTC)
