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
others are created with ``join=owner.session`` and their ``commit()`` only
flushes, so the owner's commit (or rollback) decides for all of them.

Each transaction it owns is a span (``transaction <context>``, or ``read <context>``):
in a trace, the time an order spent in each database, one span per transaction rather
than one per statement (``SHOPLAB_TRACE_SQL=true`` adds those; see telemetry.tracing).
"""

from collections.abc import Callable
from datetime import UTC, datetime
from types import TracebackType
from typing import ClassVar, Protocol, Self

from opentelemetry import trace
from opentelemetry.trace import Span, SpanKind, Status, StatusCode
from sqlalchemy import Table, insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from shoplab.contracts.envelope import Envelope, Message
from shoplab.platform.persistence.database import Database
from shoplab.platform.telemetry.messages import trace_context
from shoplab.platform.telemetry.tracing import parent_sampled

_OUTBOX_WRITTEN = "shoplab.outbox_written"
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

    async def already_handled(self, consumer: str, message_id: str) -> bool: ...

    async def record_handled(self, consumer: str, message_id: str) -> None:
        """Written with the handler's effects: a duplicate delivery then changes nothing."""
        ...


class SqlUnitOfWork(UnitOfWorkWithOutbox, UnitOfWorkWithInbox):
    outbox: ClassVar[Table | None] = None
    inbox: ClassVar[Table | None] = None

    def __init__(self, database: Database, *, join: AsyncSession | None = None) -> None:
        self.database = database
        self._joined = join
        self._committed = False
        self._read_only = False
        self._span: Span | None = None

    @property
    def session(self) -> AsyncSession:
        return self._session

    def joined(self) -> Self:
        """A unit of work of the same kind on this one's transaction.

        A message handler runs inside the consumer's unit of work (with the
        inbox record); it calls the context's use cases through a joined one,
        so their effects commit with that record.
        """
        return type(self)(self.database, join=self.session)

    def read_only(self) -> Self:
        """Use for queries: never waits for writers on SQLite, refuses writes on PostgreSQL."""
        self._read_only = True
        return self

    async def __aenter__(self) -> Self:
        new_session = self.database.readers if self._read_only else self.database.sessions
        self._session = self._joined or new_session()
        self._committed = False
        self._span = None if self._joined is not None else self._start_span()
        self.bind(self._session)
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
        try:
            if not self._committed:
                await self._session.rollback()
        finally:
            await self._session.close()
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

    def bind(self, session: AsyncSession) -> None:
        """Create the context's repositories on ``session``; subclasses override."""

    async def commit(self) -> None:
        if self._joined is not None:
            await self._session.flush()
            return
        await self._session.commit()
        self._committed = True
        if self._session.info.pop(_OUTBOX_WRITTEN, False):
            self.database.outbox_written.set()
        for callback in self._session.info.pop(_AFTER_COMMIT, []):
            callback()

    def after_commit(self, callback: Callable[[], None]) -> None:
        """Run ``callback`` once the transaction has committed; never if it rolls back.

        For what must happen once per change, such as counting a saga's outcome: a
        transition that rolls back and is delivered again commits, and counts, once.
        Kept on the session, so a joined unit of work's callbacks wait for the owner.
        """
        self._session.info.setdefault(_AFTER_COMMIT, []).append(callback)

    async def publish(
        self,
        message: Message,
        *,
        correlation_id: str | None = None,
        causation_id: str | None = None,
    ) -> Envelope:
        """Add ``message`` to this context's outbox, inside the current transaction.

        The current trace context goes with it, so its handling joins this trace.
        """
        if self.outbox is None:
            raise RuntimeError(f"{type(self).__name__} has no outbox table")
        envelope = Envelope.wrap(
            message,
            correlation_id=correlation_id,
            causation_id=causation_id,
            trace_context=trace_context(),
        )
        now = datetime.now(UTC)
        await self._session.execute(
            insert(self.outbox),
            {
                "message_id": envelope.message_id,
                "subject": envelope.subject,
                "envelope": envelope.model_dump_json(),
                "created_at": now,
                "next_attempt_at": now,
                "attempts": 0,
            },
        )
        self._session.info[_OUTBOX_WRITTEN] = True
        return envelope

    async def already_handled(self, consumer: str, message_id: str) -> bool:
        table = self._inbox()
        found = await self._session.execute(
            select(table.c.message_id).where(
                table.c.consumer == consumer, table.c.message_id == message_id
            )
        )
        return found.first() is not None

    async def record_handled(self, consumer: str, message_id: str) -> None:
        """Written with the handler's effects: a duplicate delivery then changes nothing."""
        await self._session.execute(
            insert(self._inbox()),
            {"consumer": consumer, "message_id": message_id, "handled_at": datetime.now(UTC)},
        )

    def _inbox(self) -> Table:
        if self.inbox is None:
            raise RuntimeError(f"{type(self).__name__} has no inbox table")
        return self.inbox
