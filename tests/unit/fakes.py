"""The in-memory unit of work and repository that every context's fakes build on.

``FakeUnitOfWork`` implements the chassis's ``UnitOfWork``, ``UnitOfWorkWithOutbox``
and ``UnitOfWorkWithInbox`` and keeps the promises of ``SqlUnitOfWork`` without a
database, so a use case tested on it behaves as it will on the real one:

- what a transaction changes stays only if it commits: leaving ``async with`` puts
  every repository back as it was when the transaction began, or at its last commit;
- ``publish`` writes to an outbox that ships (to ``published``) only on commit, as the
  relay sends only committed rows;
- ``after_commit`` callbacks run on commit, never on a rollback;
- a ``joined()`` unit of work shares the transaction: its own commit decides nothing;
- the inbox records handled messages in the transaction, so the chassis's idempotent
  consumer runs on it unchanged;
- a read-only transaction that writes fails the test.

A ``FakeRepository`` hands out copies and stores copies, as a table would: a use case
that changes an aggregate and forgets to save it has changed nothing.
"""

import copy
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from types import TracebackType
from typing import Any, Generic, Self, TypeVar

from shoplab.contracts.envelope import Envelope, Message
from shoplab.platform.messaging.consumers import idempotent_consumer
from shoplab.platform.persistence.unit_of_work import UnitOfWorkWithInbox, UnitOfWorkWithOutbox

T = TypeVar("T")
M = TypeVar("M", bound=Message)
U = TypeVar("U", bound=UnitOfWorkWithInbox)


class DuplicateRow(Exception):
    """An insert of a key that is there already: a table's primary key refuses it."""


class FakeRepository(Generic[T]):
    """Rows by key, kept as copies."""

    def __init__(self) -> None:
        self.rows: dict[str, T] = {}

    def _get(self, key: str) -> T | None:
        return copy.deepcopy(self.rows.get(key))

    def _insert(self, key: str, row: T) -> None:
        if key in self.rows:
            raise DuplicateRow(key)
        self.rows[key] = copy.deepcopy(row)

    def _update(self, key: str, row: T) -> None:
        """Like an SQL ``UPDATE``: a row that is not there is not created."""
        if key in self.rows:
            self.rows[key] = copy.deepcopy(row)

    def _all(self) -> list[T]:
        return [copy.deepcopy(row) for row in self.rows.values()]


class FakeInbox(FakeRepository[bool]):
    """The message ids each consumer has handled."""

    def has(self, consumer: str, message_id: str) -> bool:
        return f"{consumer}/{message_id}" in self.rows

    def record(self, consumer: str, message_id: str) -> None:
        self._insert(f"{consumer}/{message_id}", True)


class FakeUnitOfWork(UnitOfWorkWithOutbox, UnitOfWorkWithInbox):
    def __init__(self, *repositories: FakeRepository[Any]) -> None:
        self.inbox = FakeInbox()
        self._repositories = (*repositories, self.inbox)
        self.committed = False
        """Whether the last transaction committed."""
        self.published: list[Envelope] = []
        """The committed outbox, oldest first: what the relay will publish."""
        self._outbox: list[Envelope] = []
        self._callbacks: list[Callable[[], None]] = []
        self._kept = self._rows()
        """What a rollback returns to."""
        self._read_only = False
        self._owner = True

    async def __aenter__(self) -> Self:
        if self._owner:
            self.committed = False
            self._kept = self._rows()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if not self._owner:
            return
        wrote = bool(self._outbox) or self._rows() != self._kept
        self._rollback()
        read_only, self._read_only = self._read_only, False
        if read_only and wrote and exc is None:
            raise AssertionError("a read-only transaction wrote")

    async def commit(self) -> None:
        if not self._owner:
            return
        self.committed = True
        self.published.extend(self._outbox)
        self._outbox.clear()
        self._kept = self._rows()
        callbacks = list(self._callbacks)
        self._callbacks.clear()
        for callback in callbacks:
            callback()

    def _rollback(self) -> None:
        for repository, rows in zip(self._repositories, self._kept, strict=True):
            repository.rows = copy.deepcopy(rows)
        self._outbox.clear()
        self._callbacks.clear()

    def _rows(self) -> list[dict[str, Any]]:
        return [copy.deepcopy(repository.rows) for repository in self._repositories]

    def read_only(self) -> Self:
        self._read_only = True
        return self

    def joined(self) -> Self:
        joined = copy.copy(self)  # the same repositories, outbox and callbacks
        joined._owner = False
        return joined

    def after_commit(self, callback: Callable[[], None]) -> None:
        self._callbacks.append(callback)

    batches_messages = True

    @asynccontextmanager
    async def savepoint(self) -> AsyncIterator[None]:
        """Undo only what the block did, if it raises: rows, outbox and callbacks."""
        rows, outbox, callbacks = self._rows(), len(self._outbox), len(self._callbacks)
        try:
            yield
        except BaseException:
            for repository, kept in zip(self._repositories, rows, strict=True):
                repository.rows = kept
            del self._outbox[outbox:]
            del self._callbacks[callbacks:]
            raise

    async def publish(
        self,
        message: Message,
        *,
        correlation_id: str | None = None,
        causation_id: str | None = None,
    ) -> Envelope:
        envelope = Envelope.wrap(message, correlation_id=correlation_id, causation_id=causation_id)
        self._outbox.append(envelope)
        return envelope

    async def first_delivery(self, consumer: str, message_id: str) -> bool:
        if self.inbox.has(consumer, message_id):
            return False
        self.inbox.record(consumer, message_id)
        return True

    def messages(self, kind: type[M]) -> list[M]:
        """The committed messages of ``kind``, oldest first."""
        return [
            kind.model_validate(envelope.payload)
            for envelope in self.published
            if envelope.type == kind.__name__
        ]

    def published_types(self) -> list[str]:
        """The type of every committed message, oldest first."""
        return [envelope.type for envelope in self.published]


async def deliver(
    uow: U,
    handler: Callable[[M, Envelope, U], Awaitable[None]],
    message: M,
    *,
    again: Envelope | None = None,
) -> Envelope:
    """Hand ``message`` to ``handler`` as a service does: through the chassis's idempotent
    consumer, in a transaction of ``uow`` that commits. ``again`` delivers an envelope a
    second time, as a broker's redelivery would; otherwise the message gets a new one."""
    consumer = idempotent_consumer(type(message).__name__, type(message), lambda: uow, handler)
    envelope = again or Envelope.wrap(message, correlation_id=getattr(message, "order_id", None))
    await consumer.handle(envelope)
    return envelope
