"""A batch of deliveries in one transaction, a savepoint per message, on real databases.

What a broker's bus relies on: ``handle_batch`` says, for each message, ack, retry or
dead-letter; a failing message is undone alone; a failed commit acks nothing.
"""

from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import replace
from typing import ClassVar

import pytest
from sqlalchemy import Column, MetaData, String, Table

from shoplab.contracts.envelope import Envelope
from shoplab.contracts.events import CustomerRegistered
from shoplab.platform.messaging.consumers import (
    Batch,
    Delivery,
    Handled,
    Subscription,
    Verdict,
    handle_batch,
    idempotent_consumer,
)
from shoplab.platform.messaging.tables import inbox_table, outbox_table
from shoplab.platform.persistence.database import Database
from shoplab.platform.persistence.sql import Sql
from shoplab.platform.persistence.unit_of_work import SqlUnitOfWork

from ..databases import count_rows

metadata = MetaData()
OUTBOX = outbox_table(metadata, "batch")
INBOX = inbox_table(metadata, "batch")
EFFECTS = Table("batch_effects", metadata, Column("email", String(100), primary_key=True))
CONSUMER = "lab.batch"


class BatchUnitOfWork(SqlUnitOfWork):
    """Batches on either database, so that the mechanism is checked on both (shoplab's own
    units of work batch on SQLite only: see the last test)."""

    outbox: ClassVar[Table | None] = OUTBOX
    inbox: ClassVar[Table | None] = INBOX

    @property
    def batches_messages(self) -> bool:
        return True


@pytest.fixture
async def db(database: Database) -> Database:
    await database.run_sync(metadata.create_all)
    return database


class Effects:
    """A handler that inserts one row per customer, and counts its callbacks after commit.

    A customer in ``broken`` makes it insert a row that exists already: a constraint
    violation, which on PostgreSQL aborts the transaction up to the savepoint.
    """

    def __init__(self, broken: set[str] | None = None) -> None:
        self.broken = broken or set()
        self.committed: list[str] = []

    async def __call__(
        self, event: CustomerRegistered, envelope: Envelope, uow: BatchUnitOfWork
    ) -> None:
        await uow.sql.execute(
            "INSERT INTO batch_effects (email) VALUES (:email)", {"email": event.email}
        )
        uow.after_commit(lambda: self.committed.append(event.customer_id))
        await uow.publish(event, correlation_id=event.customer_id)  # for the relay, once committed
        if event.customer_id in self.broken:
            await uow.sql.execute(
                "INSERT INTO batch_effects (email) VALUES (:email)", {"email": event.email}
            )
        await uow.commit()  # a joined unit of work: decides nothing


def subscription(db: Database, effects: Effects) -> Subscription:
    return idempotent_consumer(
        CONSUMER, CustomerRegistered, lambda: BatchUnitOfWork(db), effects, max_deliveries=5
    )


def envelope(n: int) -> Envelope:
    return Envelope.wrap(
        CustomerRegistered(customer_id=f"c{n}", email=f"c{n}@example.com", name="C")
    )


def delivered(envelopes: list[Envelope], deliveries: int = 1) -> list[Delivery]:
    return [Delivery(e.model_dump_json().encode(), deliveries, {}) for e in envelopes]


async def rows(db: Database, table: Table) -> int:
    return await count_rows(db, table.name)


def verdicts(handled: list[Handled]) -> list[Verdict]:
    return [h.verdict for h in handled]


async def test_a_failing_message_is_undone_alone_and_the_others_commit_once(
    db: Database,
) -> None:
    effects = Effects(broken={"c2"})
    batch = [envelope(1), envelope(2), envelope(3)]
    db.handoff.open()  # as a relay listening would
    handled = await handle_batch(subscription(db, effects), delivered(batch), 5, system="lab")
    assert verdicts(handled) == [Verdict.ACK, Verdict.RETRY, Verdict.ACK]
    assert (await rows(db, EFFECTS), await rows(db, INBOX), await rows(db, OUTBOX)) == (2, 2, 2)
    assert effects.committed == ["c1", "c3"]  # the undone message's callback never runs
    handed = [row.envelope.correlation_id for row in db.handoff.take(10)]
    assert handed == ["c1", "c3"], "the undone message's outbox row never reaches the relay"

    effects.broken.clear()  # delivered again, with c1 again: only c2 has an effect
    again = await handle_batch(
        subscription(db, effects), delivered([batch[1], batch[0]], 2), 5, system="lab"
    )
    assert verdicts(again) == [Verdict.ACK, Verdict.ACK]
    assert (await rows(db, EFFECTS), await rows(db, INBOX)) == (3, 3)
    assert effects.committed == ["c1", "c3", "c2"]


async def test_duplicates_in_one_batch_have_one_effect(db: Database) -> None:
    effects = Effects()
    copy = envelope(1)
    handled = await handle_batch(
        subscription(db, effects), delivered([copy, copy, envelope(2), copy]), 5, system="lab"
    )
    assert verdicts(handled) == [Verdict.ACK] * 4
    assert (await rows(db, EFFECTS), await rows(db, INBOX)) == (2, 2)
    assert effects.committed == ["c1", "c2"]


def failing_commit(
    opens: Callable[[], AbstractAsyncContextManager[Batch]],
) -> Callable[[], AbstractAsyncContextManager[Batch]]:
    """The batch as ``opens`` makes it, but its commit fails (the disk, the server...)."""

    class Failing:
        def __init__(self, inner: Batch) -> None:
            self.handle = inner.handle

        async def commit(self) -> None:
            raise OSError("disk I/O error")

    @asynccontextmanager
    async def batch() -> AsyncIterator[Batch]:
        async with opens() as inner:
            yield Failing(inner)

    return batch


async def test_a_failed_commit_acks_nothing(db: Database) -> None:
    effects = Effects(broken={"c2"})
    consumer = subscription(db, effects)
    assert consumer.batch is not None
    failing = replace(consumer, batch=failing_commit(consumer.batch))
    batch = [*delivered([envelope(1), envelope(2), envelope(3)]), Delivery(b"{nope", 1, {})]
    handled = await handle_batch(failing, batch, 5, system="lab")
    assert verdicts(handled) == [
        Verdict.RETRY,
        Verdict.RETRY,
        Verdict.RETRY,
        Verdict.DEAD_LETTER,  # unparseable: never part of the transaction
    ]
    assert (await rows(db, EFFECTS), await rows(db, INBOX)) == (0, 0)
    assert effects.committed == []


async def test_at_its_last_delivery_a_message_of_a_failed_commit_is_dead_lettered(
    db: Database,
) -> None:
    consumer = subscription(db, Effects())
    assert consumer.batch is not None
    failing = replace(consumer, batch=failing_commit(consumer.batch))
    handled = await handle_batch(failing, delivered([envelope(1), envelope(2)], 5), 5, system="lab")
    assert verdicts(handled) == [Verdict.DEAD_LETTER, Verdict.DEAD_LETTER]


async def fail_in_savepoint(sql: Sql) -> None:
    async with sql.savepoint():
        await sql.execute("INSERT INTO batch_effects (email) VALUES ('undone')")
        raise RuntimeError("this message only")


async def test_a_savepoint_undoes_only_its_own_statements(db: Database) -> None:
    async with db.transaction() as sql:
        await sql.execute("INSERT INTO batch_effects (email) VALUES ('kept')")
        with pytest.raises(RuntimeError):
            await fail_in_savepoint(sql)
        async with sql.savepoint():
            await sql.execute("INSERT INTO batch_effects (email) VALUES ('also kept')")
    async with db.transaction(read_only=True) as sql:
        emails = sorted(row.email for row in await sql.all("SELECT email FROM batch_effects"))
    assert emails == ["also kept", "kept"]


async def test_only_sqlite_takes_batches_in_one_transaction(db: Database) -> None:
    """On PostgreSQL a batch would hold its row locks until its last message: instances
    handling batches side by side would wait for each other, so each message keeps its own."""
    assert SqlUnitOfWork(db).batches_messages is db.is_sqlite
