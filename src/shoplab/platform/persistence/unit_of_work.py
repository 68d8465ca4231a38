"""The unit of work: one request or one message is one transaction.

``UnitOfWork`` is what a use case may ask of any context's unit of work, with
``UnitOfWorkWithOutbox`` to publish and ``UnitOfWorkWithInbox`` for the idempotent
consumer. Each context declares its own on top of them, with its repositories
(``<context>/service_layer/unit_of_work.py``). ``SqlUnitOfWork`` implements them
on a database: a context subclasses it to hang its repositories on the session.
The tests' fakes implement the same protocols in memory. Leaving the
``async with`` block without ``commit()`` rolls everything back.

Joining: in the modular monolith one order touches orders, inventory and payments
in a single ACID transaction, yet each context still works through its own unit
of work and tables. The unit of work that opens the transaction owns it; the
others are created with ``join=owner.transaction`` and their ``commit()`` does
nothing, so the owner's commit (or rollback) decides for all of them.

Each transaction it owns is a span (``transaction <context>``, or ``read <context>``):
in a trace, the time an order spent in each database, one span per transaction rather
than one per statement (``SHOPLAB_TRACE_SQL=true`` adds those; see telemetry.tracing).
"""

from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from datetime import UTC, datetime
from functools import cache
from types import TracebackType
from typing import ClassVar, Protocol, Self

from opentelemetry import trace
from opentelemetry.trace import Span, SpanKind, Status, StatusCode
from sqlalchemy import Table

from shoplab.contracts.envelope import Envelope, Message
from shoplab.platform.persistence.database import Database, Transaction
from shoplab.platform.persistence.handoff import CommittedMessage
from shoplab.platform.persistence.sql import Sql
from shoplab.platform.telemetry.messages import trace_context
from shoplab.platform.telemetry.tracing import parent_sampled

_OUTBOX_ROWS = "shoplab.outbox_rows"
_AFTER_COMMIT = "shoplab.after_commit"
_tracer = trace.get_tracer("shoplab.database")


class UnitOfWork(Protocol):
    """One transaction: ``async with uow:`` opens it; leaving without ``commit()`` undoes it."""

    async def __aenter__(self) -> Self: ...

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None: ...

    async def commit(self) -> None: ...

    def read_only(self) -> Self:
        """The next transaction only reads."""
        ...

    def joined(self) -> Self:
        """A unit of work of the same kind on this one's transaction: its ``commit()``
        decides nothing, the owner's does."""
        ...


class UnitOfWorkWithOutbox(UnitOfWork, Protocol):
    """A unit of work whose context publishes messages, through its outbox."""

    async def publish(
        self,
        message: Message,
        *,
        correlation_id: str | None = None,
        causation_id: str | None = None,
    ) -> Envelope:
        """Add ``message`` to the outbox, in the current transaction: it leaves if it commits."""
        ...


class UnitOfWorkWithInbox(UnitOfWork, Protocol):
    """A unit of work whose context consumes messages: the idempotent consumer's inbox."""

    async def first_delivery(self, consumer: str, message_id: str) -> bool:
        """Record that ``consumer`` handles ``message_id``; False when it already had.

        The record commits with the handler's effects, so a duplicate delivery then
        changes nothing; if they roll back, so does the record.
        """
        ...

    @property
    def batches_messages(self) -> bool:
        """Whether one transaction may handle a batch of messages (see ``SqlUnitOfWork``)."""
        ...

    def savepoint(self) -> AbstractAsyncContextManager[None]:
        """One message of a batch: if the block raises, its effects (and its callbacks
        after commit) are undone, the rest of the transaction is kept."""
        ...


class SqlUnitOfWork(UnitOfWorkWithOutbox, UnitOfWorkWithInbox):
    """A unit of work on a ``Database``: a context subclasses it to hang its repositories
    on the transaction's statements (``bind``)."""

    outbox: ClassVar[Table | None] = None
    inbox: ClassVar[Table | None] = None

    def __init__(self, database: Database, *, join: Transaction | None = None) -> None:
        self.database = database
        self._joined = join
        self._committed = False
        self._read_only = False
        self._span: Span | None = None

    @property
    def transaction(self) -> Transaction:
        return self._transaction

    @property
    def sql(self) -> Sql:
        return self._transaction.sql

    @property
    def batches_messages(self) -> bool:
        """On SQLite, yes: the file has one writer at a time anyway, so a batch in one
        transaction costs no concurrency and saves a commit per message. On PostgreSQL, no:
        a batch would hold every row it locked until its last message, and instances
        handling batches side by side would wait for each other, or deadlock, on rows
        they lock in different orders; there each message keeps its own short transaction.
        """
        return self.database.is_sqlite

    def joined(self) -> Self:
        """A unit of work of the same kind on this one's transaction.

        A message handler runs inside the consumer's unit of work (with the
        inbox record); it calls the context's use cases through a joined one,
        so their effects commit with that record.
        """
        return type(self)(self.database, join=self._transaction)

    def read_only(self) -> Self:
        """Use for queries: never waits for writers on SQLite, refuses writes on PostgreSQL."""
        self._read_only = True
        return self

    async def __aenter__(self) -> Self:
        self._committed = False
        if self._joined is not None:
            self._transaction = self._joined
            self._span = None
        else:
            self._span = self._start_span()
            try:
                self._transaction = await self.database.begin(read_only=self._read_only)
            except BaseException as error:
                self._end_span(error)
                raise
        self.bind(self._transaction.sql)
        return self

    def _start_span(self) -> Span | None:
        if not parent_sampled():  # nothing would be recorded: no span at all
            return None
        name = type(self).__name__.removeprefix("Sql").removesuffix("UnitOfWork")
        context = name.lower() or "database"
        kind = "read" if self._read_only else "transaction"
        return _tracer.start_span(
            f"{kind} {context}",
            kind=SpanKind.CLIENT,
            attributes={"db.system.name": "sqlite" if self.database.is_sqlite else "postgresql"},
        )

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._joined is not None:
            return
        self._read_only = False  # "the next transaction only reads": that one has ended
        try:
            if not self._committed:
                await self._transaction.rollback()
        finally:
            self._end_span(exc)

    def _end_span(self, error: BaseException | None) -> None:
        if self._span is None:
            return
        self._span.set_attribute(
            "db.transaction.outcome", "commit" if self._committed else "rollback"
        )
        if error is not None:
            self._span.set_status(Status(StatusCode.ERROR, type(error).__name__))
        self._span.end()

    def bind(self, sql: Sql) -> None:
        """Create the context's repositories on the transaction's statements; subclasses
        override."""

    async def commit(self) -> None:
        if self._joined is not None:
            return
        await self._transaction.commit()
        self._committed = True
        info = self._transaction.info
        if written := info.pop(_OUTBOX_ROWS, None):  # to the relay, only once committed
            self.database.handoff.put(written)
        for callback in info.pop(_AFTER_COMMIT, []):
            callback()

    def after_commit(self, callback: Callable[[], None]) -> None:
        """Run ``callback`` once the transaction has committed; never if it rolls back.

        For what must happen once per change, such as counting a saga's outcome: a
        transition that rolls back and is delivered again commits, and counts, once.
        Kept on the transaction, so a joined unit of work's callbacks wait for the owner.
        """
        self._transaction.info.setdefault(_AFTER_COMMIT, []).append(callback)

    @asynccontextmanager
    async def savepoint(self) -> AsyncIterator[None]:
        """See ``UnitOfWorkWithInbox.savepoint``: what the block kept on the transaction (its
        callbacks after commit, its outbox rows for the relay) goes with its statements."""
        info = self._transaction.info
        callbacks: list[Callable[[], None]] = info.setdefault(_AFTER_COMMIT, [])
        rows: list[CommittedMessage] = info.setdefault(_OUTBOX_ROWS, [])
        kept_callbacks, kept_rows = len(callbacks), len(rows)
        try:
            async with self.sql.savepoint():
                yield
        except BaseException:
            del callbacks[kept_callbacks:]
            del rows[kept_rows:]
            raise

    async def publish(
        self,
        message: Message,
        *,
        correlation_id: str | None = None,
        causation_id: str | None = None,
    ) -> Envelope:
        """Add ``message`` to this context's outbox, inside the current transaction.

        The current trace context goes with it, so its handling joins this trace. The row
        is kept on the transaction too (a joined unit of work's on its owner's), and handed
        to the relay once it commits.
        """
        if self.outbox is None:
            raise RuntimeError(f"{type(self).__name__} has no outbox table")
        envelope = Envelope.wrap(
            message,
            correlation_id=correlation_id,
            causation_id=causation_id,
            trace_context=trace_context(),
        )
        body = envelope.model_dump_json()
        now = datetime.now(UTC)
        row = await self.sql.one(
            _outbox_insert(self.outbox.name),
            {
                "message_id": envelope.message_id,
                "subject": envelope.subject,
                "envelope": body,
                "now": now,
            },
        )
        assert row is not None, "INSERT ... RETURNING returns the row"
        written = CommittedMessage(self.outbox.name, row[0], envelope, body)
        self._transaction.info.setdefault(_OUTBOX_ROWS, []).append(written)
        return envelope

    async def first_delivery(self, consumer: str, message_id: str) -> bool:
        """One insert that ignores a duplicate: no row inserted means handled before.

        On PostgreSQL a concurrent delivery of the same message waits here for the
        first one's transaction, then finds its row.
        """
        if self.inbox is None:
            raise RuntimeError(f"{type(self).__name__} has no inbox table")
        inserted = await self.sql.execute(
            _inbox_insert(self.inbox.name),
            {"consumer": consumer, "message_id": message_id, "now": datetime.now(UTC)},
        )
        return inserted == 1


@cache
def _outbox_insert(table: str) -> str:
    return (
        f"INSERT INTO {table} (message_id, subject, envelope, created_at, next_attempt_at,"
        " attempts) VALUES (:message_id, :subject, :envelope, :now, :now, 0) RETURNING position"
    )


@cache
def _inbox_insert(table: str) -> str:
    return (
        f"INSERT INTO {table} (consumer, message_id, handled_at)"
        " VALUES (:consumer, :message_id, :now) ON CONFLICT DO NOTHING"
    )
