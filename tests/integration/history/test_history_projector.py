"""The history projector on a real JetStream and a real database (SQLite, and PostgreSQL
when the suite has one: the ``database`` fixture of conftest.py).

Events of three sources are published to their streams before and while the
projector runs; the view is checked through the context's own queries.
"""

import asyncio
import contextlib
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import timedelta

import nats
import pytest
from nats.js import JetStreamContext

from shoplab.contracts.envelope import Envelope, Message
from shoplab.contracts.events import (
    NotificationSent,
    OrderApproved,
    OrderPlaced,
    PaymentCharged,
    PlacedLine,
)
from shoplab.history.bootstrap import HistoryContext
from shoplab.history.domain.model import OrderHistory, Status
from shoplab.history.service_layer import queries
from shoplab.platform.messaging.event_log import LoggedEvent
from shoplab.platform.messaging.jetstream.event_log import NatsEventLog
from shoplab.platform.messaging.jetstream.streams import stream_config
from shoplab.platform.messaging.streams import Topology
from shoplab.platform.persistence.database import Database
from shoplab.platform.time import now

from ..nats_server import nats_url

__all__ = ["nats_url"]

SETTLE_SECONDS = 15.0


class RecordingLog(NatsEventLog):
    """The real log, noting where each read starts (to show positions survive a restart)."""

    starts: list[tuple[str, int]]

    def read(self, source: str, after: int) -> AsyncIterator[LoggedEvent]:
        self.starts.append((source, after))
        return super().read(source, after)


@pytest.fixture
def topology() -> Topology:
    return Topology(namespace=f"h{uuid.uuid4().hex[:12]}")


@pytest.fixture
async def jetstream(nats_url: str, topology: Topology) -> AsyncIterator[JetStreamContext]:
    connection = await nats.connect(nats_url)
    js = connection.jetstream()
    for spec in topology.streams():
        await js.add_stream(stream_config(spec))
    yield js
    await connection.close()


@contextlib.asynccontextmanager
async def running(
    nats_url: str, topology: Topology, database: Database
) -> AsyncIterator[tuple[HistoryContext, RecordingLog]]:
    event_log = RecordingLog(nats_url, topology)
    event_log.starts = []
    context = HistoryContext(database, event_log)
    await context.start()
    task = asyncio.create_task(context.project())
    try:
        yield context, event_log
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


async def publish(js: JetStreamContext, topology: Topology, message: Message) -> None:
    envelope = Envelope.wrap(message)
    await js.publish(topology.wire(envelope.subject), envelope.model_dump_json().encode())


async def caught_up(context: HistoryContext) -> None:
    await eventually(lambda: _all_caught_up(context), "the view caught up with every source")


async def _all_caught_up(context: HistoryContext) -> bool:
    return all(lag.caught_up for lag in await context.projector.lag())


async def eventually(check: Callable[[], Awaitable[bool]], what: str) -> None:
    deadline = asyncio.get_running_loop().time() + SETTLE_SECONDS
    while not await check():
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"not within {SETTLE_SECONDS} s: {what}")
        await asyncio.sleep(0.05)


def placed(order_id: str, customer_id: str = "c1") -> OrderPlaced:
    return OrderPlaced(
        order_id=order_id,
        customer_id=customer_id,
        lines=[PlacedLine(sku="S", quantity=1, unit_price_cents=700)],
        total_cents=700,
        currency="EUR",
        payment_method="pm_card_visa",
        placed_at=now(),
    )


def approved(order: OrderPlaced) -> OrderApproved:
    return OrderApproved(
        order_id=order.order_id,
        customer_id=order.customer_id,
        total_cents=order.total_cents,
        currency=order.currency,
        updated_at=order.placed_at + timedelta(seconds=1),
    )


async def view(context: HistoryContext) -> list[OrderHistory]:
    return await queries.everything(context.uow())


async def test_sources_arriving_out_of_order_build_the_same_entry(
    nats_url: str, topology: Topology, jetstream: JetStreamContext, database: Database
) -> None:
    order = placed("o1")
    await publish(jetstream, topology, PaymentCharged(order_id="o1", amount_cents=700))
    await publish(
        jetstream,
        topology,
        NotificationSent(
            order_id="o1", notification_kind="ORDER_APPROVED", recipient="a@b.c", sent_at=now()
        ),
    )
    async with running(nats_url, topology, database) as (context, _):
        await caught_up(context)
        assert await queries.orders_of(context.uow(), "c1", 100) == []  # not placed yet
        await publish(jetstream, topology, order)
        await publish(jetstream, topology, approved(order))
        await publish(jetstream, topology, approved(order))  # delivered twice
        await caught_up(context)
        [entry] = await queries.orders_of(context.uow(), "c1", 100)
    assert entry.status is Status.APPROVED
    assert entry.created_at == order.placed_at
    assert entry.updated_at == approved(order).updated_at
    assert (entry.charged_cents, entry.notifications) == (700, frozenset({"ORDER_APPROVED"}))


async def test_positions_survive_a_restart_and_a_rebuild_gives_the_same_view(
    nats_url: str, topology: Topology, jetstream: JetStreamContext, database: Database
) -> None:
    orders = [placed(f"o{n}", customer_id=f"c{n % 3}") for n in range(20)]
    for order in orders[:10]:
        await publish(jetstream, topology, order)
    async with running(nats_url, topology, database) as (context, _):
        await caught_up(context)
    async with context.uow() as uow:
        stored = {source: position for source, (position, _) in (await uow.positions.all()).items()}
    for order in orders[10:]:
        await publish(jetstream, topology, order)
        await publish(jetstream, topology, approved(order))
        await publish(jetstream, topology, PaymentCharged(order_id=order.order_id, amount_cents=7))
    async with running(nats_url, topology, database) as (context, event_log):
        await caught_up(context)
        assert ("orders", stored["orders"]) in event_log.starts
        assert stored["orders"] == 10
        before = await view(context)
        await context.projector.rebuild()
        await caught_up(context)
        assert ("orders", 0) in event_log.starts
        after = await view(context)
    assert len(before) == 20
    assert sum(e.status is Status.APPROVED for e in before) == 10
    assert after == before


async def test_lag_is_measured_in_messages_and_seconds(
    nats_url: str, topology: Topology, jetstream: JetStreamContext, database: Database
) -> None:
    for n in range(5):
        await publish(jetstream, topology, placed(f"o{n}"))
    event_log = NatsEventLog(nats_url, topology)
    try:
        context = HistoryContext(database, event_log)
        await context.start()
        lags = {lag.source: lag for lag in await context.projector.lag()}  # nothing applied yet
    finally:
        await event_log.stop()
    assert lags["orders"].messages == 5
    assert not lags["orders"].caught_up
    assert lags["payments"].caught_up
