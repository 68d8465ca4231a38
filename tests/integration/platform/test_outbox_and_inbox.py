"""The transactional outbox, its relay, and the idempotent consumer, on real databases."""

import asyncio
from collections.abc import Awaitable, Callable, Mapping, Sequence
from contextlib import AbstractAsyncContextManager
from datetime import UTC, datetime
from typing import Any, ClassVar

import pytest
from sqlalchemy import Column, Integer, MetaData, String, Table

from shoplab.contracts.commands.inventory import ReserveStock
from shoplab.contracts.envelope import Envelope
from shoplab.contracts.events import CustomerRegistered
from shoplab.platform.messaging.consumers import (
    InProcessPublisher,
    PublisherUnavailable,
    idempotent_consumer,
)
from shoplab.platform.messaging.relay import OutboxRelay
from shoplab.platform.messaging.tables import inbox_table, outbox_table
from shoplab.platform.persistence.database import Database, Transaction
from shoplab.platform.persistence.sql import Sql
from shoplab.platform.persistence.unit_of_work import SqlUnitOfWork

metadata = MetaData()
OUTBOX = outbox_table(metadata, "lab")
INBOX = inbox_table(metadata, "lab")
EFFECTS = Table(
    "lab_effects", metadata, Column("id", Integer, primary_key=True), Column("email", String(100))
)


class LabUnitOfWork(SqlUnitOfWork):
    outbox: ClassVar[Table | None] = OUTBOX
    inbox: ClassVar[Table | None] = INBOX


class Recorder:
    """A publisher that keeps what it was given, and can be told to fail."""

    def __init__(self, failures: int = 0) -> None:
        self.received: list[Envelope] = []
        self.failures = failures
        self.got_one = asyncio.Event()

    async def publish(self, envelope: Envelope) -> None:
        if self.failures:
            self.failures -= 1
            raise ConnectionError("broker unavailable")
        self.received.append(envelope)
        self.got_one.set()


@pytest.fixture
async def db(database: Database) -> Database:
    await database.run_sync(metadata.create_all)
    return database


def registered(n: int = 1) -> CustomerRegistered:
    return CustomerRegistered(customer_id=f"c{n}", email=f"c{n}@example.com", name="C")


async def count(db: Database, table: Table) -> int:
    async with db.transaction(read_only=True) as sql:
        row = await sql.one(f"SELECT count(*) FROM {table.name}")
    assert row is not None
    return int(row[0])


async def outbox_rows(db: Database) -> list[Any]:
    async with db.transaction(read_only=True) as sql:
        return await sql.all(
            "SELECT position, attempts, dead_at, published_at, last_error FROM lab_outbox"
            " ORDER BY position"
        )


async def test_a_committed_message_is_relayed_once(db: Database) -> None:
    async with LabUnitOfWork(db) as uow:
        envelope = await uow.publish(registered(), correlation_id="c1")
        await uow.commit()
    recorder = Recorder()
    relay = OutboxRelay(db, [OUTBOX], recorder)
    assert await relay.drain() == 1
    assert await relay.drain() == 0
    assert [e.message_id for e in recorder.received] == [envelope.message_id]
    assert recorder.received[0].subject == "shoplab.identity.events.CustomerRegistered"
    assert recorder.received[0].correlation_id == "c1"


async def test_a_rolled_back_transaction_leaves_no_message(db: Database) -> None:
    async with LabUnitOfWork(db) as uow:
        await uow.publish(registered())
    assert await count(db, OUTBOX) == 0


async def test_a_failing_publish_is_retried_then_dead_lettered(db: Database) -> None:
    async with LabUnitOfWork(db) as uow:
        await uow.publish(registered())
        await uow.commit()
    recorder = Recorder(failures=1_000)
    relay = OutboxRelay(db, [OUTBOX], recorder, max_attempts=3)
    for _ in range(5):
        async with db.transaction() as sql:  # make the row due again at once
            await sql.execute(
                "UPDATE lab_outbox SET next_attempt_at = :now", {"now": datetime.now(UTC)}
            )
        await relay.drain()
    [row] = await outbox_rows(db)
    assert row.attempts == 3
    assert row.dead_at is not None
    assert row.published_at is None
    assert "broker unavailable" in row.last_error


class Unreachable:
    """A broker that cannot be reached at all."""

    async def publish(self, envelope: Envelope) -> None:
        raise PublisherUnavailable


async def test_an_unreachable_broker_costs_no_attempt_and_dead_letters_nothing(
    db: Database,
) -> None:
    async with LabUnitOfWork(db) as uow:
        envelope = await uow.publish(registered())
        await uow.commit()
    down = OutboxRelay(db, [OUTBOX], Unreachable(), max_attempts=2)
    for _ in range(5):
        assert await down.drain() == 0
    [row] = await outbox_rows(db)
    assert (row.attempts, row.dead_at, row.published_at) == (0, None, None)
    recorder = Recorder()
    assert await OutboxRelay(db, [OUTBOX], recorder).drain() == 1
    assert [e.message_id for e in recorder.received] == [envelope.message_id]


async def test_a_commit_wakes_the_relay_without_waiting_for_the_poll(db: Database) -> None:
    recorder = Recorder()
    relay = OutboxRelay(db, [OUTBOX], recorder, poll_seconds=60)
    task = asyncio.create_task(relay.run())
    try:
        await asyncio.sleep(0.1)
        async with LabUnitOfWork(db) as uow:
            await uow.publish(registered())
            await uow.commit()
        await asyncio.wait_for(recorder.got_one.wait(), 10)
    finally:
        task.cancel()


async def remember(message: CustomerRegistered, _envelope: Envelope, uow: LabUnitOfWork) -> None:
    await uow.sql.execute(
        "INSERT INTO lab_effects (email) VALUES (:email)", {"email": message.email}
    )


async def test_a_duplicate_delivery_has_one_effect(db: Database) -> None:
    subscription = idempotent_consumer(
        "lab.remember", CustomerRegistered, lambda: LabUnitOfWork(db), remember
    )
    envelope = Envelope.wrap(registered())
    await subscription.handle(envelope)
    await subscription.handle(envelope)
    assert await count(db, EFFECTS) == 1


async def test_concurrent_duplicates_have_one_effect(db: Database) -> None:
    subscription = idempotent_consumer(
        "lab.remember", CustomerRegistered, lambda: LabUnitOfWork(db), remember
    )
    envelope = Envelope.wrap(registered())
    await asyncio.gather(*(subscription.handle(envelope) for _ in range(5)), return_exceptions=True)
    assert await count(db, EFFECTS) == 1
    assert await count(db, INBOX) == 1


async def test_the_in_process_publisher_routes_by_subject(db: Database) -> None:
    subscription = idempotent_consumer(
        "lab.remember", CustomerRegistered, lambda: LabUnitOfWork(db), remember
    )
    publisher = InProcessPublisher([subscription])
    async with LabUnitOfWork(db) as uow:
        await uow.publish(registered(1))
        await uow.publish(registered(2))
        await uow.commit()
    assert await OutboxRelay(db, [OUTBOX], publisher).drain() == 2
    async with db.transaction(read_only=True) as sql:
        emails = [
            row.email for row in await sql.all("SELECT email FROM lab_effects ORDER BY email")
        ]
    assert emails == ["c1@example.com", "c2@example.com"]


async def test_the_in_process_relay_hands_a_batch_over_and_retries_only_what_failed(
    db: Database,
) -> None:
    """Three rows in one relay pass: the one whose handler fails is undone alone (its
    savepoint, on SQLite) and tried again at the next pass; the others took effect once."""
    failing = {"c2@example.com"}

    async def remember_unless_failing(
        message: CustomerRegistered, envelope: Envelope, uow: LabUnitOfWork
    ) -> None:
        await remember(message, envelope, uow)
        if message.email in failing:
            failing.discard(message.email)
            raise ConnectionError("a dependency failed once")

    subscription = idempotent_consumer(
        "lab.remember", CustomerRegistered, lambda: LabUnitOfWork(db), remember_unless_failing
    )
    publisher = InProcessPublisher([subscription])
    async with LabUnitOfWork(db) as uow:
        for n in (1, 2, 3):
            await uow.publish(registered(n))
        await uow.commit()
    relay = OutboxRelay(db, [OUTBOX], publisher, max_attempts=3)
    assert await relay.drain() == 2
    rows = await outbox_rows(db)
    assert [row.published_at is not None for row in rows] == [True, False, True]
    assert rows[1].attempts == 1
    async with db.transaction() as sql:  # due again now, not after the backoff
        await sql.execute(
            "UPDATE lab_outbox SET next_attempt_at = :now", {"now": datetime.now(UTC)}
        )
    assert await relay.drain() == 1
    async with db.transaction(read_only=True) as sql:
        emails = [row.email for row in await sql.all("SELECT email FROM lab_effects")]
    assert sorted(emails) == ["c1@example.com", "c2@example.com", "c3@example.com"]


async def test_an_unreadable_row_is_dead_lettered_without_blocking_the_next(db: Database) -> None:
    async with LabUnitOfWork(db) as uow:
        await uow.publish(registered(1))
        await uow.publish(registered(2))
        await uow.commit()
    first = (await outbox_rows(db))[0].position
    async with db.transaction() as sql:
        await sql.execute(
            "UPDATE lab_outbox SET envelope = '{not json' WHERE position = :p", {"p": first}
        )
    recorder = Recorder()
    assert await OutboxRelay(db, [OUTBOX], recorder, max_attempts=1).drain() == 1
    assert [e.payload["customer_id"] for e in recorder.received] == ["c2"]
    assert (await outbox_rows(db))[0].dead_at is not None


class StoredRecorder:
    """A broker that takes stored bytes, acknowledges at once, and can refuse some messages."""

    system = "nats"

    def __init__(self, refuse: frozenset[str] = frozenset()) -> None:
        self.received: list[tuple[str, bytes]] = []
        self.refuse = refuse
        self.all_arrived = asyncio.Event()
        self.expected = 0

    async def publish(self, envelope: Envelope) -> None:
        raise AssertionError("the relay publishes stored bytes to a broker")

    async def publish_stored(
        self,
        subject: str,
        message_id: str,
        body: bytes,
        headers: Mapping[str, str],
        message_type: str,
    ) -> "asyncio.Future[Any]":
        answer: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        if message_id in self.refuse:
            answer.set_exception(ConnectionError("refused"))
        else:
            self.received.append((message_id, body))
            answer.set_result(None)
            if len(self.received) >= self.expected:
                self.all_arrived.set()
        return answer


class CountingSql:
    """The statements of one transaction, each one written down before it runs."""

    def __init__(self, inner: Sql, log: list[str]) -> None:
        self._inner = inner
        self._log = log
        self.for_update = inner.for_update

    async def execute(self, statement: str, params: Mapping[str, Any] | None = None) -> int:
        self._log.append(statement)
        return await self._inner.execute(statement, params)

    async def execute_many(self, statement: str, rows: Sequence[Mapping[str, Any]]) -> None:
        self._log.append(statement)
        await self._inner.execute_many(statement, rows)

    async def one(self, statement: str, params: Mapping[str, Any] | None = None) -> Any:
        self._log.append(statement)
        return await self._inner.one(statement, params)

    async def all(self, statement: str, params: Mapping[str, Any] | None = None) -> list[Any]:
        self._log.append(statement)
        return await self._inner.all(statement, params)

    def savepoint(self) -> AbstractAsyncContextManager[None]:
        return self._inner.savepoint()


class CountingDatabase(Database):
    """A database whose transactions write down every statement they run."""

    def __init__(self, url: str) -> None:
        super().__init__(url)
        self.statements: list[str] = []

    async def begin(self, *, read_only: bool = False) -> Transaction:
        transaction = await super().begin(read_only=read_only)
        transaction.sql = CountingSql(transaction.sql, self.statements)
        return transaction


async def stored_bodies(db: Database) -> dict[str, str]:
    async with db.transaction(read_only=True) as sql:
        rows = await sql.all("SELECT message_id, envelope FROM lab_outbox")
    return {row.message_id: row.envelope for row in rows}


async def unpublished(db: Database) -> int:
    async with db.transaction(read_only=True) as sql:
        row = await sql.one("SELECT count(*) FROM lab_outbox WHERE published_at IS NULL")
    assert row is not None
    return int(row[0])


async def test_a_commit_hands_its_rows_to_the_relay_without_a_poll_in_order_per_order(
    db: Database,
) -> None:
    broker = StoredRecorder()
    broker.expected = 12
    relay = OutboxRelay(db, [OUTBOX], broker, poll_seconds=3600, system="nats")
    task = asyncio.create_task(relay.run())
    try:
        await asyncio.sleep(0.1)  # the poll at start has run; the next is an hour away
        sent: dict[str, list[str]] = {"a": [], "b": [], "c": []}
        for n in range(4):
            async with LabUnitOfWork(db) as uow:
                for order in sent:
                    envelope = await uow.publish(registered(n), correlation_id=order)
                    sent[order].append(envelope.message_id)
                await uow.commit()
        await asyncio.wait_for(broker.all_arrived.wait(), 10)
        received = [message_id for message_id, _ in broker.received]
        for order, message_ids in sent.items():
            assert [m for m in received if m in message_ids] == message_ids, order
        stored = await stored_bodies(db)
        assert all(body == stored[m].encode() for m, body in broker.received), "bytes as stored"
        await asyncio.wait_for(_until(lambda: _equals(unpublished(db), 0)), 10)
    finally:
        task.cancel()


async def test_only_a_committed_transaction_hands_rows_over(db: Database) -> None:
    db.handoff.open()
    try:
        async with LabUnitOfWork(db) as uow:
            await uow.publish(registered(1))
        assert len(db.handoff) == 0, "a rollback hands nothing"
        async with LabUnitOfWork(db) as owner:
            joined = owner.joined()
            async with joined:
                await joined.publish(registered(2))
                await joined.commit()
            assert len(db.handoff) == 0, "a joined unit of work waits for its owner"
            await owner.publish(registered(3))
            await owner.commit()
        assert [row.envelope.payload["customer_id"] for row in db.handoff.take(10)] == [
            "c2",
            "c3",
        ]
    finally:
        db.handoff.close()


async def test_rows_a_crash_left_behind_are_published_by_the_poll_at_start(
    db: Database,
) -> None:
    async with LabUnitOfWork(db) as uow:  # committed while no relay ran
        for n in range(3):
            await uow.publish(registered(n), correlation_id="o1")
        await uow.commit()
    broker = StoredRecorder()
    broker.expected = 3
    task = asyncio.create_task(
        OutboxRelay(db, [OUTBOX], broker, poll_seconds=3600, system="nats").run()
    )
    try:
        await asyncio.wait_for(broker.all_arrived.wait(), 10)
        await asyncio.wait_for(_until(lambda: _equals(unpublished(db), 0)), 10)
    finally:
        task.cancel()


async def test_the_poll_leaves_rows_the_handoff_holds(db: Database) -> None:
    db.handoff.open()
    try:
        async with LabUnitOfWork(db) as uow:
            await uow.publish(registered())
            await uow.commit()
        broker = StoredRecorder()
        assert await OutboxRelay(db, [OUTBOX], broker, system="nats").drain() == 0
        assert broker.received == []
    finally:
        db.handoff.close()


async def test_a_failed_row_holds_back_its_order_but_not_the_others(db: Database) -> None:
    async with LabUnitOfWork(db) as uow:
        first = await uow.publish(registered(1), correlation_id="o1")
        second = await uow.publish(registered(2), correlation_id="o1")
        other = await uow.publish(registered(3), correlation_id="o2")
        await uow.commit()
    broker = StoredRecorder(refuse=frozenset({first.message_id}))
    assert await OutboxRelay(db, [OUTBOX], broker, system="nats").drain() == 1
    assert [m for m, _ in broker.received] == [other.message_id]
    assert second.message_id not in {m for m, _ in broker.received}
    rows = await outbox_rows(db)
    assert (rows[0].attempts, rows[1].attempts) == (1, 0)


async def test_a_batch_is_marked_published_by_one_statement(database_url: str) -> None:
    db = CountingDatabase(database_url)
    try:
        await db.run_sync(metadata.create_all)
        async with LabUnitOfWork(db) as uow:
            for n in range(37):
                await uow.publish(registered(n), correlation_id=f"o{n % 5}")
            await uow.commit()
        db.statements.clear()
        assert await OutboxRelay(db, [OUTBOX], StoredRecorder(), system="nats").drain() == 37
        marks = [s for s in db.statements if s.startswith("UPDATE lab_outbox")]
        assert len(marks) == 1
        assert await unpublished(db) == 0
    finally:
        await db.dispose()


async def _until(check: Callable[[], Awaitable[bool]]) -> None:
    while not await check():  # noqa: ASYNC110 (the table is what is watched)
        await asyncio.sleep(0.02)


async def _equals(value: Awaitable[int], expected: int) -> bool:
    return await value == expected


async def test_an_idle_relay_only_counts_its_backlog(database_url: str) -> None:
    db = CountingDatabase(database_url)
    try:
        await db.run_sync(metadata.create_all)
        task = asyncio.create_task(
            OutboxRelay(db, [OUTBOX], StoredRecorder(), poll_seconds=0.05).run()
        )
        await asyncio.sleep(0.3)
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        assert db.statements, "the recovery passes ran"
        assert all(s.startswith("SELECT count(*)") for s in db.statements), db.statements
    finally:
        await db.dispose()


class HeldRecorder(StoredRecorder):
    """A broker that takes stored bytes and acknowledges only when the test says so."""

    def __init__(self) -> None:
        super().__init__()
        self.unanswered: list[asyncio.Future[Any]] = []
        self.sent = asyncio.Event()

    async def publish_stored(
        self,
        subject: str,
        message_id: str,
        body: bytes,
        headers: Mapping[str, str],
        message_type: str,
    ) -> "asyncio.Future[Any]":
        self.received.append((message_id, body))
        self.sent.set()
        answer: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self.unanswered.append(answer)
        return answer

    async def acknowledge(self) -> None:
        """Answer what was sent, then let the relay send its next round."""
        self.sent.clear()
        for answer in self.unanswered:
            answer.set_result(None)
        self.unanswered.clear()
        await asyncio.wait_for(self.sent.wait(), 10)


async def test_one_orders_rows_to_two_owners_streams_leave_together(db: Database) -> None:
    async with LabUnitOfWork(db) as uow:
        placed = await uow.publish(registered(1), correlation_id="o1")
        reserve = await uow.publish(
            ReserveStock(order_id="o1", lines={"A": 1}), correlation_id="o1"
        )
        later = await uow.publish(registered(2), correlation_id="o1")
        await uow.commit()
    broker = HeldRecorder()
    drained = asyncio.create_task(OutboxRelay(db, [OUTBOX], broker, system="nats").drain())
    await asyncio.wait_for(broker.sent.wait(), 10)
    await asyncio.sleep(0.05)  # the relay now awaits the first round's acknowledgements
    first_round = {m for m, _ in broker.received}
    assert first_round == {placed.message_id, reserve.message_id}, "inventory's waits for none"
    await broker.acknowledge()
    assert [m for m, _ in broker.received][2:] == [later.message_id], "identity's stays in order"
    broker.unanswered[0].set_result(None)
    assert await asyncio.wait_for(drained, 10) == 3
