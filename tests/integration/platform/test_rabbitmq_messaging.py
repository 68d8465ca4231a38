"""Messaging over the machine's RabbitMQ: the guarantees of the NATS bus, on AMQP.

Each test runs the inventory context's real command handlers on a SQLite database
behind the chassis's ``RabbitBus``, in a namespace of its own (see ``rabbitmq.py``).
"""

import asyncio
import sys
import textwrap
from asyncio.subprocess import PIPE
from collections.abc import AsyncIterator, Awaitable, Callable

import aio_pika
import pytest
from aio_pika.abc import AbstractChannel, AbstractIncomingMessage

from shoplab.contracts.commands import ReserveStock
from shoplab.contracts.envelope import Envelope
from shoplab.inventory.adapters.tables import outbox
from shoplab.inventory.bootstrap import InventoryContext
from shoplab.inventory.service_layer import services as inventory
from shoplab.platform.messaging.consumers import PublisherUnavailable, Subscription
from shoplab.platform.messaging.rabbitmq.bus import RabbitBus, Unroutable
from shoplab.platform.messaging.rabbitmq.topology import RabbitTopology, declare_exchange
from shoplab.platform.messaging.relay import OutboxRelay
from shoplab.platform.messaging.streams import Topology

from ..databases import count_rows
from ..inventory import context
from ..rabbitmq import rabbitmq_url, topology

__all__ = ["context", "rabbitmq_url", "topology"]

SETTLE_SECONDS = 15.0


@pytest.fixture
async def channel(rabbitmq_url: str) -> AsyncIterator[AbstractChannel]:
    connection = await aio_pika.connect(rabbitmq_url)
    yield await connection.channel()
    await connection.close()


async def start_bus(
    url: str, topology: Topology, subscriptions: list[Subscription], max_deliveries: int = 5
) -> RabbitBus:
    bus = RabbitBus(url, service="test", max_deliveries=max_deliveries, topology=topology)
    bus.subscribe(subscriptions)
    await bus.start()
    return bus


async def eventually(check: Callable[[], Awaitable[bool]], what: str) -> None:
    deadline = asyncio.get_running_loop().time() + SETTLE_SECONDS
    while not await check():
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"not within {SETTLE_SECONDS} s: {what}")
        await asyncio.sleep(0.05)


async def raw_publish(
    channel: AbstractChannel, topology: Topology, subject: str, data: bytes
) -> None:
    exchange = await declare_exchange(channel, RabbitTopology(topology))
    await exchange.publish(aio_pika.Message(data), RabbitTopology(topology).routing_key(subject))


async def answers(context: InventoryContext) -> int:
    return await count_rows(context.database, outbox.name)


async def reserved(context: InventoryContext) -> int:
    return (await inventory.stock_level(context.uow(), "SKU-1")).reserved


async def dead_letters(
    channel: AbstractChannel, topology: Topology
) -> list[AbstractIncomingMessage]:
    """Take every dead letter (acked: the test owns the namespace)."""
    queue = await channel.get_queue(RabbitTopology(topology).dead_letters, ensure=False)
    taken = []
    while (message := await queue.get(no_ack=True, fail=False)) is not None:
        taken.append(message)
    return taken


async def test_a_command_delivered_twice_is_applied_and_answered_once(
    rabbitmq_url: str, topology: Topology, context: InventoryContext, channel: AbstractChannel
) -> None:
    bus = await start_bus(rabbitmq_url, topology, context.subscriptions())
    try:
        envelope = Envelope.wrap(ReserveStock(order_id="o1", lines={"SKU-1": 3}))
        data = envelope.model_dump_json().encode()
        # RabbitMQ keeps no de-duplication window: both copies are delivered. Only the
        # inbox can stop the second.
        await raw_publish(channel, topology, envelope.subject, data)
        await raw_publish(channel, topology, envelope.subject, data)
        await eventually(lambda: _equals(answers(context), 1), "one answer in the outbox")
        await asyncio.sleep(0.5)
        assert await reserved(context) == 3
        assert await answers(context) == 1
    finally:
        await bus.stop()


async def test_a_poison_message_is_dead_lettered_and_the_rest_keep_flowing(
    rabbitmq_url: str, topology: Topology, context: InventoryContext, channel: AbstractChannel
) -> None:
    bus = await start_bus(rabbitmq_url, topology, context.subscriptions())
    try:
        subject = ReserveStock.subject()
        await raw_publish(channel, topology, subject, b"{not json")
        good = Envelope.wrap(ReserveStock(order_id="o2", lines={"SKU-1": 2}))
        await raw_publish(channel, topology, subject, good.model_dump_json().encode())
        await eventually(lambda: _equals(reserved(context), 2), "the good message handled")
        dead = await dead_letters(channel, topology)
        assert [m.body for m in dead] == [b"{not json"]
        headers = dead[0].headers or {}
        assert headers["Shoplab-Consumer"] == "inventory.reserve"
        assert headers["Shoplab-Original-Subject"] == subject
        assert headers["Shoplab-Deliveries"] == "1"
    finally:
        await bus.stop()


async def test_a_message_that_keeps_failing_is_dead_lettered_while_the_next_flows(
    rabbitmq_url: str, topology: Topology, channel: AbstractChannel
) -> None:
    deliveries: list[str] = []
    handled: list[str] = []

    async def fails_for_o3(envelope: Envelope) -> None:
        if envelope.payload["order_id"] == "o3":
            deliveries.append(envelope.message_id)
            raise RuntimeError("handler bug")
        handled.append(envelope.payload["order_id"])

    failing = Subscription("inventory.failing", ReserveStock.subject(), fails_for_o3)
    bus = await start_bus(rabbitmq_url, topology, [failing], max_deliveries=3)
    try:
        bad = Envelope.wrap(ReserveStock(order_id="o3", lines={"SKU-1": 1}))
        await bus.publish(bad)
        await eventually(lambda: _true(bool(deliveries)), "a first failed delivery")
        await bus.publish(Envelope.wrap(ReserveStock(order_id="o4", lines={"SKU-1": 1})))
        await eventually(lambda: _true(handled == ["o4"]), "the next message, while o3 waits")
        assert len(deliveries) < 3, "o4 was handled before o3 ran out of deliveries"
        await eventually(lambda: _true(len(deliveries) == 3), "three deliveries of o3")
        dead: list[AbstractIncomingMessage] = []

        async def some_dead() -> bool:
            dead.extend(await dead_letters(channel, topology))
            return bool(dead)

        await eventually(some_dead, "a dead letter")
        assert Envelope.model_validate_json(dead[0].body).message_id == bad.message_id
        headers = dead[0].headers or {}
        assert headers["Shoplab-Deliveries"] == "3"
        assert "handler bug" in str(headers["Shoplab-Error"])
        await asyncio.sleep(0.5)
        assert len(deliveries) == 3
    finally:
        await bus.stop()


KILLED_BEFORE_ACK = textwrap.dedent(
    """
    import asyncio, os, signal, sys
    from shoplab.contracts.commands import ReserveStock
    from shoplab.platform.messaging.consumers import Subscription
    from shoplab.platform.messaging.rabbitmq.bus import RabbitBus, Unroutable
    from shoplab.platform.messaging.streams import Topology

    async def die(envelope) -> None:
        print(envelope.message_id, flush=True)
        os.kill(os.getpid(), signal.SIGKILL)  # inside the handler: never acked

    async def main() -> None:
        bus = RabbitBus(sys.argv[1], service="doomed", topology=Topology(sys.argv[2]))
        bus.subscribe([Subscription("inventory.doomed", ReserveStock.subject(), die)])
        await bus.start()
        print("ready", flush=True)
        await asyncio.sleep(60)

    asyncio.run(main())
    """
)


async def test_a_handler_killed_before_the_ack_gets_the_message_again(
    rabbitmq_url: str, topology: Topology
) -> None:
    doomed = await asyncio.create_subprocess_exec(
        sys.executable, "-c", KILLED_BEFORE_ACK, rabbitmq_url, topology.namespace,
        stdout=PIPE, stderr=PIPE,
    )  # fmt: skip
    assert doomed.stdout is not None
    assert (await asyncio.wait_for(doomed.stdout.readline(), 30)).strip() == b"ready"
    publisher = await start_bus(rabbitmq_url, topology, [])
    envelope = Envelope.wrap(ReserveStock(order_id="o5", lines={"SKU-1": 1}))
    await publisher.publish(envelope)
    stdout, stderr = await asyncio.wait_for(doomed.communicate(), 30)
    await publisher.stop()
    assert doomed.returncode == -9, stderr.decode()
    assert stdout.decode().strip() == envelope.message_id

    received: list[str] = []
    redelivered = asyncio.Event()

    async def handle(envelope: Envelope) -> None:
        received.append(envelope.message_id)
        redelivered.set()

    survivor = await start_bus(
        rabbitmq_url, topology, [Subscription("inventory.doomed", ReserveStock.subject(), handle)]
    )
    try:
        await asyncio.wait_for(redelivered.wait(), SETTLE_SECONDS)
        assert received == [envelope.message_id]
    finally:
        await survivor.stop()


async def test_the_relay_marks_a_row_published_only_once_the_broker_confirmed_it(
    rabbitmq_url: str, topology: Topology, context: InventoryContext, channel: AbstractChannel
) -> None:
    names = RabbitTopology(topology)
    async with context.uow() as uow:
        await uow.publish(ReserveStock(order_id="o6", lines={"SKU-1": 1}), correlation_id="o6")
        await uow.commit()
    bus = await start_bus(rabbitmq_url, topology, [])
    relay = OutboxRelay(context.database, [outbox], bus)
    try:
        # A queue that refuses every message: the broker answers the publish with a nack.
        exchange = await declare_exchange(channel, names)
        full = await channel.declare_queue(
            f"{topology.namespace}.full",
            arguments={"x-max-length": 0, "x-overflow": "reject-publish"},
            auto_delete=True,
        )
        await full.bind(exchange, names.routing_key(ReserveStock.subject()))
        with pytest.raises(PublisherUnavailable):
            await bus.publish(Envelope.wrap(ReserveStock(order_id="x", lines={"SKU-1": 1})))
        assert await relay.drain() == 0
        assert await _unpublished(context) == 1, "a nacked message stays in the outbox"

        await full.delete(if_unused=False, if_empty=False)
        kept = await channel.declare_queue(f"{topology.namespace}.kept", auto_delete=True)
        await kept.bind(exchange, names.routing_key(ReserveStock.subject()))
        assert await relay.drain() == 1
        assert await _unpublished(context) == 0
        stored = await kept.get(no_ack=True)
        assert stored.delivery_mode == aio_pika.DeliveryMode.PERSISTENT
        assert stored.message_id == Envelope.model_validate_json(stored.body).message_id
        await kept.delete(if_unused=False, if_empty=False)
    finally:
        await bus.stop()


async def test_a_message_no_queue_takes_is_retried_until_its_consumer_exists(
    rabbitmq_url: str, topology: Topology, context: InventoryContext
) -> None:
    """A command published before its consumer ever started is not lost: it is retried."""
    async with context.uow() as uow:
        await uow.publish(ReserveStock(order_id="o7", lines={"SKU-1": 1}), correlation_id="o7")
        await uow.commit()
    bus = await start_bus(rabbitmq_url, topology, [])
    relay = OutboxRelay(context.database, [outbox], bus)
    try:
        with pytest.raises(Unroutable):
            await bus.publish(Envelope.wrap(ReserveStock(order_id="x", lines={"SKU-1": 1})))
        assert await relay.drain() == 0
        assert await _unpublished(context) == 1
        consumer = await start_bus(rabbitmq_url, topology, [_ignore("inventory.late")])
        await consumer.stop()
        await eventually(lambda: _relayed(relay), "the row published on a later attempt")
        assert await _unpublished(context) == 0
    finally:
        await bus.stop()


async def _relayed(relay: OutboxRelay) -> bool:
    return await relay.drain() == 1


def _ignore(consumer: str) -> Subscription:
    async def nothing(_: Envelope) -> None:
        return None

    return Subscription(consumer, ReserveStock.subject(), nothing)


async def _unpublished(context: InventoryContext) -> int:
    return await count_rows(context.database, outbox.name, "published_at IS NULL")


async def _equals(value: Awaitable[int], expected: int) -> bool:
    return await value == expected


async def _true(value: bool) -> bool:
    return value
