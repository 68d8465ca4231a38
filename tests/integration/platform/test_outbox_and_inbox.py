"""The transactional outbox, its relay, and the idempotent consumer, on real databases."""

import asyncio
from datetime import UTC, datetime
from typing import Any, ClassVar

import pytest
from sqlalchemy import Column, Integer, MetaData, String, Table

from shoplab.contracts.envelope import Envelope
from shoplab.contracts.events import CustomerRegistered
from shoplab.platform.messaging.consumers import (
    InProcessPublisher,
    PublisherUnavailable,
    idempotent_consumer,
)
from shoplab.platform.messaging.relay import OutboxRelay
from shoplab.platform.messaging.tables import inbox_table, outbox_table
from shoplab.platform.persistence.database import Database
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
