"""The event log on a real JetStream: retained streams, reading from a position, the head.

Events are published first; readers are created afterwards and still read them
from the first one: the stream is a log, kept under explicit limits, not a queue
that forgets what was consumed.
"""

import asyncio
import uuid
from collections.abc import AsyncIterator

import nats
import pytest
from nats.js import JetStreamContext

from shoplab.contracts.envelope import Envelope, Message
from shoplab.contracts.events import OrderApproved, PaymentCharged
from shoplab.platform.messaging.brokers import open_event_log
from shoplab.platform.messaging.event_log import LoggedEvent
from shoplab.platform.messaging.jetstream.bus import ensure_streams
from shoplab.platform.messaging.jetstream.event_log import NatsEventLog
from shoplab.platform.messaging.jetstream.streams import stream_config
from shoplab.platform.messaging.streams import Retention, Topology
from shoplab.platform.settings import PlatformSettings
from shoplab.platform.time import now

from ..nats_server import nats_url

__all__ = ["nats_url"]

RETENTION = Retention(max_age_seconds=3600.0, max_bytes=8 << 20, max_msgs=1000)


@pytest.fixture
def topology() -> Topology:
    return Topology(namespace=f"l{uuid.uuid4().hex[:12]}", retention=RETENTION)


@pytest.fixture
async def jetstream(nats_url: str, topology: Topology) -> AsyncIterator[JetStreamContext]:
    connection = await nats.connect(nats_url)
    js = connection.jetstream()
    for spec in topology.streams():
        await js.add_stream(stream_config(spec))
    yield js
    await connection.close()


@pytest.fixture
async def event_log(nats_url: str, topology: Topology) -> AsyncIterator[NatsEventLog]:
    event_log = NatsEventLog(nats_url, topology)
    await event_log.start()
    yield event_log
    await event_log.stop()


async def publish(js: JetStreamContext, topology: Topology, message: Message) -> Envelope:
    envelope = Envelope.wrap(message)
    await js.publish(
        topology.wire(envelope.subject),
        envelope.model_dump_json().encode(),
        headers={"Nats-Msg-Id": envelope.message_id},
    )
    return envelope


async def command_to_orders(js: JetStreamContext, topology: Topology) -> None:
    """A command stored in the orders stream: not an event, so no reader of the log sees it."""
    await js.publish(topology.wire("shoplab.orders.commands.Probe"), b"{}")


def approved(order_id: str) -> OrderApproved:
    return OrderApproved(
        order_id=order_id, customer_id="c1", total_cents=100, currency="EUR", updated_at=now()
    )


async def take(event_log: NatsEventLog, source: str, after: int, count: int) -> list[LoggedEvent]:
    async def first() -> list[LoggedEvent]:
        taken: list[LoggedEvent] = []
        async for event in event_log.read(source, after):
            taken.append(event)
            if len(taken) == count:
                break
        return taken

    return await asyncio.wait_for(first(), 10)


async def test_streams_keep_events_under_the_configured_limits(
    jetstream: JetStreamContext, topology: Topology
) -> None:
    info = await jetstream.stream_info(topology.stream_of("orders"))
    assert info.config.max_age == RETENTION.max_age_seconds
    assert info.config.max_bytes == RETENTION.max_bytes
    assert info.config.max_msgs == RETENTION.max_msgs
    assert topology.stream_of("notifications") in {s.name for s in topology.streams()}


async def test_retention_comes_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SHOPLAB_STREAM_MAX_AGE_SECONDS", "60")
    monkeypatch.setenv("SHOPLAB_STREAM_MAX_BYTES", str(2 << 20))
    config = stream_config(Topology("x").streams()[0])
    assert (config.max_age, config.max_bytes) == (60.0, 2 << 20)


async def test_a_consumer_added_after_the_events_replays_from_the_first(
    jetstream: JetStreamContext, topology: Topology, event_log: NatsEventLog
) -> None:
    published = [await publish(jetstream, topology, approved(f"o{n}")) for n in range(5)]
    await command_to_orders(jetstream, topology)
    late_reader = await take(event_log, "orders", 0, 5)
    assert [e.envelope.message_id for e in late_reader] == [e.message_id for e in published]
    assert [e.pending for e in late_reader] == [4, 3, 2, 1, 0]
    assert all(e.source == "orders" and e.stored_at.tzinfo for e in late_reader)


async def test_a_reader_resumes_after_its_position_and_sees_new_events(
    jetstream: JetStreamContext, topology: Topology, event_log: NatsEventLog
) -> None:
    for n in range(3):
        await publish(jetstream, topology, PaymentCharged(order_id=f"o{n}", amount_cents=n))
    first = await take(event_log, "payments", 0, 3)
    resumed = asyncio.create_task(take(event_log, "payments", first[1].position, 2))
    await asyncio.sleep(0.2)
    later = await publish(jetstream, topology, PaymentCharged(order_id="o9", amount_cents=9))
    events = await resumed
    assert [e.envelope.payload["order_id"] for e in events] == ["o2", "o9"]
    assert events[1].envelope.message_id == later.message_id


async def test_the_head_is_the_newest_event_not_command(
    jetstream: JetStreamContext, topology: Topology, event_log: NatsEventLog
) -> None:
    assert await event_log.head("orders") is None
    await publish(jetstream, topology, approved("o1"))
    second = await publish(jetstream, topology, approved("o2"))
    await command_to_orders(jetstream, topology)
    head = await event_log.head("orders")
    events = await take(event_log, "orders", 0, 2)
    assert head is not None
    assert head.position == events[-1].position
    assert events[-1].envelope.message_id == second.message_id


async def test_streams_are_updated_to_new_limits(nats_url: str, topology: Topology) -> None:
    from faststream.nats import NatsBroker

    broker = NatsBroker(nats_url)
    await broker.connect()
    try:
        await ensure_streams(broker, topology.streams())
        smaller = Topology(topology.namespace, Retention(max_age_seconds=60, max_bytes=1 << 20))
        await ensure_streams(broker, smaller.streams())
        info = await broker.connection.jetstream().stream_info(smaller.stream_of("payments"))
        assert (info.config.max_age, info.config.max_bytes) == (60, 1 << 20)
    finally:
        await broker.stop()


def test_the_factory_picks_the_log_by_scheme() -> None:
    assert isinstance(
        open_event_log(PlatformSettings(broker_url="nats://127.0.0.1:1")), NatsEventLog
    )
    with pytest.raises(ValueError, match="kafka"):
        open_event_log(PlatformSettings(broker_url="kafka://127.0.0.1:1"))
