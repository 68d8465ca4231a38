"""The event log on RabbitMQ streams: read from any position, again, by a reader added later."""

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import pytest

from shoplab.contracts.envelope import Envelope
from shoplab.contracts.events import OrderApproved
from shoplab.platform.messaging.event_log import LoggedEvent
from shoplab.platform.messaging.rabbitmq.bus import RabbitBus
from shoplab.platform.messaging.rabbitmq.event_log import RabbitEventLog
from shoplab.platform.messaging.streams import Topology

from ..rabbitmq import rabbitmq_url, topology

__all__ = ["rabbitmq_url", "topology"]


@pytest.fixture
async def bus(rabbitmq_url: str, topology: Topology) -> AsyncIterator[RabbitBus]:
    """A bus that started before anything was published: it declared the streams."""
    bus = RabbitBus(rabbitmq_url, service="orders-1", topology=topology)
    await bus.start()
    yield bus
    await bus.stop()


@pytest.fixture
async def log(rabbitmq_url: str, topology: Topology) -> AsyncIterator[RabbitEventLog]:
    log = RabbitEventLog(rabbitmq_url, topology)
    await log.start()
    yield log
    await log.stop()


async def approve(bus: RabbitBus, count: int) -> list[str]:
    ids = []
    for number in range(count):
        envelope = Envelope.wrap(_approved(f"o{number}"))
        await bus.publish(envelope)
        ids.append(envelope.message_id)
    return ids


def _approved(order_id: str) -> OrderApproved:
    return OrderApproved(
        order_id=order_id,
        customer_id="c1",
        total_cents=1200,
        currency="EUR",
        updated_at=datetime.now(UTC),
    )


async def take(log: RabbitEventLog, source: str, after: int, count: int) -> list[LoggedEvent]:
    events: list[LoggedEvent] = []
    reader = log.read(source, after)

    async def collect() -> None:
        async for event in reader:
            events.append(event)
            if len(events) == count:
                return

    await asyncio.wait_for(collect(), 15)
    await reader.aclose()  # type: ignore[attr-defined]
    return events


async def test_a_reader_added_later_reads_every_event_from_the_start_and_from_a_position(
    bus: RabbitBus, log: RabbitEventLog
) -> None:
    ids = await approve(bus, 5)

    first = await take(log, "orders", 0, 5)
    again = await take(log, "orders", 0, 5)
    rest = await take(log, "orders", first[2].position, 2)

    assert [event.envelope.message_id for event in first] == ids
    assert [event.position for event in first] == [1, 2, 3, 4, 5]
    assert [event.envelope.message_id for event in again] == ids, "reading consumes nothing"
    assert [event.envelope.message_id for event in rest] == ids[3:]
    assert all(event.source == "orders" and event.stored_at.tzinfo for event in first)


async def test_a_reader_at_the_end_gets_each_new_event(bus: RabbitBus, log: RabbitEventLog) -> None:
    (old,) = await approve(bus, 1)
    reader = asyncio.create_task(take(log, "orders", 1, 1))
    await asyncio.sleep(0.3)
    (new,) = await approve(bus, 1)
    (event,) = await reader
    assert (event.envelope.message_id, event.position) == (new, 2)
    assert old != new


async def test_head_is_the_newest_event_or_none(bus: RabbitBus, log: RabbitEventLog) -> None:
    assert await log.head("payments") is None
    await approve(bus, 3)
    head = await log.head("orders")
    assert head is not None
    assert head.position == 3


async def test_an_unknown_source_is_refused(log: RabbitEventLog) -> None:
    with pytest.raises(ValueError, match="catalog"):
        await take(log, "catalog", 0, 1)


async def test_a_reader_that_stops_early_leaves_the_other_readers_alone(
    bus: RabbitBus, log: RabbitEventLog
) -> None:
    """A stream refuses rejects by closing the connection: stopping must not reject."""
    ids = await approve(bus, 5)
    follower = asyncio.create_task(take(log, "orders", 0, 6))
    await asyncio.sleep(0.3)
    assert [event.envelope.message_id for event in await take(log, "orders", 0, 2)] == ids[:2]
    head = await log.head("orders")  # stops with the rest of the last chunk unread
    assert head is not None
    (late,) = await approve(bus, 1)
    followed = await follower
    assert [event.envelope.message_id for event in followed] == [*ids, late]
