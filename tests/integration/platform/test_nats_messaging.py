"""Messaging over a real NATS JetStream: de-duplication, redelivery, dead letters, the relay.

Each test runs the inventory context's real command handlers on a SQLite database,
behind the chassis's ``NatsBus``, in a namespace of its own on a throwaway
nats-server (see ``nats_server.py``).
"""

import asyncio
import sys
import textwrap
import uuid
from asyncio.subprocess import PIPE
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import replace
from pathlib import Path

import nats
import pytest
from nats.aio.msg import Msg
from nats.js import JetStreamContext
from nats.js.api import RawStreamMsg

from shoplab.contracts.commands import ReserveStock
from shoplab.contracts.envelope import Envelope
from shoplab.contracts.events import StockReserved
from shoplab.inventory.adapters.tables import outbox
from shoplab.inventory.bootstrap import InventoryContext
from shoplab.inventory.service_layer import services as inventory
from shoplab.inventory.service_layer.unit_of_work import SqlInventoryUnitOfWork
from shoplab.platform.messaging.consumers import Batch, Subscription, idempotent_consumer
from shoplab.platform.messaging.jetstream.bus import NatsBus, durable_name
from shoplab.platform.messaging.relay import OutboxRelay
from shoplab.platform.messaging.streams import Topology
from shoplab.platform.persistence.database import Database

from ..databases import count_rows
from ..inventory import context
from ..nats_server import nats_url

__all__ = ["context", "nats_url"]

SETTLE_SECONDS = 10.0


@pytest.fixture
def topology() -> Topology:
    return Topology(namespace=f"t{uuid.uuid4().hex[:12]}")


@pytest.fixture
async def jetstream(nats_url: str) -> AsyncIterator[JetStreamContext]:
    connection = await nats.connect(nats_url)
    yield connection.jetstream()
    await connection.close()


async def start_bus(
    nats_url: str, topology: Topology, subscriptions: list[Subscription], max_deliveries: int = 5
) -> NatsBus:
    bus = NatsBus(nats_url, service="test", max_deliveries=max_deliveries, topology=topology)
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
    jetstream: JetStreamContext, topology: Topology, subject: str, data: bytes, msg_id: str
) -> None:
    await jetstream.publish(
        topology.wire(subject),
        data,
        stream=topology.stream_for(subject),
        headers={"Nats-Msg-Id": msg_id},
    )


async def answers(context: InventoryContext) -> int:
    return await count_rows(context.database, outbox.name)


async def reserved(context: InventoryContext) -> int:
    return (await inventory.stock_level(context.uow(), "SKU-1")).reserved


async def test_a_command_delivered_twice_is_applied_and_answered_once(
    nats_url: str, topology: Topology, context: InventoryContext, jetstream: JetStreamContext
) -> None:
    bus = await start_bus(nats_url, topology, context.subscriptions())
    try:
        envelope = Envelope.wrap(ReserveStock(order_id="o1", lines={"SKU-1": 3}))
        data = envelope.model_dump_json().encode()
        # Two broker-level ids: the second copy gets past JetStream's de-duplication, as a
        # redelivery after a lost ack would. Only the inbox can stop it now.
        await raw_publish(jetstream, topology, envelope.subject, data, "copy-1")
        await raw_publish(jetstream, topology, envelope.subject, data, "copy-2")
        await eventually(lambda: _stream_consumed(jetstream, topology, envelope.subject, 2), "2")
        await eventually(lambda: _equals(answers(context), 1), "one answer in the outbox")
        await asyncio.sleep(0.3)
        assert await reserved(context) == 3
        assert await answers(context) == 1
    finally:
        await bus.stop()


async def test_the_relay_stores_a_message_once_even_when_it_publishes_it_twice(
    nats_url: str, topology: Topology, jetstream: JetStreamContext
) -> None:
    bus = await start_bus(nats_url, topology, [])
    try:
        envelope = Envelope.wrap(ReserveStock(order_id="o1", lines={"SKU-1": 1}))
        await bus.publish(envelope)
        await bus.publish(envelope)
        info = await jetstream.stream_info(topology.stream_for(envelope.subject))
        assert info.state.messages == 1
    finally:
        await bus.stop()


async def test_a_poison_message_is_dead_lettered_and_the_rest_keep_flowing(
    nats_url: str, topology: Topology, context: InventoryContext, jetstream: JetStreamContext
) -> None:
    bus = await start_bus(nats_url, topology, context.subscriptions())
    try:
        subject = ReserveStock.subject()
        await raw_publish(jetstream, topology, subject, b"{not json", "poison")
        good = Envelope.wrap(ReserveStock(order_id="o2", lines={"SKU-1": 2}))
        await raw_publish(jetstream, topology, subject, good.model_dump_json().encode(), "good")
        await eventually(lambda: _equals(reserved(context), 2), "the good message handled")
        dead = await _dead_letters(jetstream, topology)
        assert [m.data for m in dead] == [b"{not json"]
        headers = dead[0].headers or {}
        assert headers["Shoplab-Consumer"] == "inventory.reserve"
        assert headers["Shoplab-Original-Subject"] == subject
    finally:
        await bus.stop()


async def test_a_message_that_keeps_failing_is_dead_lettered_after_bounded_deliveries(
    nats_url: str, topology: Topology, jetstream: JetStreamContext
) -> None:
    deliveries: list[str] = []

    async def always_fails(envelope: Envelope) -> None:
        deliveries.append(envelope.message_id)
        raise RuntimeError("handler bug")

    failing = Subscription("inventory.failing", ReserveStock.subject(), always_fails)
    bus = await start_bus(nats_url, topology, [failing], max_deliveries=3)
    try:
        envelope = Envelope.wrap(ReserveStock(order_id="o3", lines={"SKU-1": 1}))
        await bus.publish(envelope)
        await eventually(lambda: _has_dead_letters(jetstream, topology), "a dead letter")
        dead = await _dead_letters(jetstream, topology)
        assert Envelope.model_validate_json(dead[0].data or b"").message_id == envelope.message_id
        headers = dead[0].headers or {}
        assert headers["Shoplab-Deliveries"] == "3"
        assert "handler bug" in headers["Shoplab-Error"]
        assert len(deliveries) == 3
    finally:
        await bus.stop()


async def test_a_fetched_batch_commits_together_and_only_its_failing_message_comes_back(
    nats_url: str, topology: Topology, context: InventoryContext
) -> None:
    calls: list[str] = []

    async def reserve(
        command: ReserveStock, envelope: Envelope, uow: SqlInventoryUnitOfWork
    ) -> None:
        calls.append(command.order_id)
        await uow.publish(StockReserved(order_id=command.order_id))
        if command.order_id == "o3" and calls.count("o3") == 1:
            raise RuntimeError("unlucky the first time")

    consumer = idempotent_consumer("inventory.batch", ReserveStock, context.uow, reserve)
    assert consumer.batch is not None
    opens, sizes = consumer.batch, list[int]()

    @asynccontextmanager
    async def counted() -> AsyncIterator[Batch]:
        async with opens() as batch:
            before = len(calls)
            yield batch
            sizes.append(len(calls) - before)

    publisher = await start_bus(nats_url, topology, [])  # the streams, and six waiting
    commands = [Envelope.wrap(ReserveStock(order_id=f"o{n}", lines={"SKU-1": 1})) for n in range(6)]
    for command in commands:
        await publisher.publish(command)
    bus = await start_bus(nats_url, topology, [replace(consumer, batch=counted)])
    try:
        await eventually(lambda: _equals(answers(context), 6), "six answers in the outbox")
        await asyncio.sleep(0.3)
        assert await answers(context) == 6
        assert sorted(calls) == sorted([f"o{n}" for n in range(6)] + ["o3"])
        assert sizes[0] == 6, "the six waiting messages were handled as one batch"
    finally:
        await bus.stop()
        await publisher.stop()


async def test_an_idle_consumer_rarely_asks_the_server_for_messages(
    nats_url: str, topology: Topology, context: InventoryContext
) -> None:
    [reserve] = [s for s in context.subscriptions() if s.consumer == "inventory.reserve"]
    stream = topology.stream_for(reserve.subject)
    watcher = await nats.connect(nats_url)
    requests: list[Msg] = []

    async def count(message: Msg) -> None:
        requests.append(message)

    subject = f"$JS.API.CONSUMER.MSG.NEXT.{stream}.{durable_name(reserve.consumer)}"
    await watcher.subscribe(subject, cb=count)
    await watcher.flush()
    bus = await start_bus(nats_url, topology, [reserve])
    try:
        await asyncio.sleep(3)
        assert 1 <= len(requests) <= 2, f"{len(requests)} fetch requests in 3 s of idling"
    finally:
        await bus.stop()
        await watcher.close()


async def test_a_bus_that_consumed_stops_at_once(
    nats_url: str, topology: Topology, context: InventoryContext
) -> None:
    bus = await start_bus(nats_url, topology, context.subscriptions())
    await bus.publish(Envelope.wrap(ReserveStock(order_id="o0", lines={"SKU-1": 1})))
    await eventually(lambda: _equals(answers(context), 1), "the first answer")
    # While a fetch waits, several arrive at once: it returns with the first, and the
    # server sends the others to the waiting request, ahead of the next fetch.
    for n in range(1, 4):
        await bus.publish(Envelope.wrap(ReserveStock(order_id=f"o{n}", lines={"SKU-1": 1})))
    await eventually(lambda: _equals(answers(context), 4), "four answers")
    await asyncio.sleep(0.2)
    started = asyncio.get_running_loop().time()
    await bus.stop()
    assert asyncio.get_running_loop().time() - started < 5, "a service stops within its grace"


CRASH_AFTER_COMMIT = textwrap.dedent(
    """
    import asyncio, os, signal, sys
    from shoplab.contracts.events import StockReserved
    from shoplab.inventory.bootstrap import InventoryContext
    from shoplab.platform.persistence.database import Database

    async def main() -> None:
        context = InventoryContext(Database(sys.argv[1]))
        await context.migrate()
        async with context.uow() as uow:
            envelope = await uow.publish(StockReserved(order_id="o9"), correlation_id="o9")
            await uow.commit()
        print(envelope.message_id, flush=True)
        os.kill(os.getpid(), signal.SIGKILL)  # dies before any relay could publish

    asyncio.run(main())
    """
)


async def test_a_process_killed_between_commit_and_publish_loses_no_message(
    nats_url: str, topology: Topology, jetstream: JetStreamContext, tmp_path: Path
) -> None:
    url = f"sqlite:///{tmp_path / 'crashed.db'}"
    crashed = await asyncio.create_subprocess_exec(
        sys.executable, "-c", CRASH_AFTER_COMMIT, url, stdout=PIPE, stderr=PIPE
    )
    stdout, stderr = await asyncio.wait_for(crashed.communicate(), 60)
    assert crashed.returncode == -9, stderr.decode()
    message_id = stdout.decode().strip()

    database = Database(url)
    bus = await start_bus(nats_url, topology, [])
    relay = OutboxRelay(database, [outbox], bus)
    try:
        assert await relay.drain() == 1, "the restarted process publishes what was committed"
        stream = topology.stream_for("shoplab.inventory.events.StockReserved")
        stored = await jetstream.get_last_msg(
            stream, topology.wire("shoplab.inventory.events.StockReserved")
        )
        assert Envelope.model_validate_json(stored.data or b"").message_id == message_id
        assert (stored.headers or {})["Nats-Msg-Id"] == message_id
        assert await relay.drain() == 0
    finally:
        await bus.stop()
        await database.dispose()


async def _equals(value: Awaitable[int], expected: int) -> bool:
    return await value == expected


async def _stream_consumed(
    jetstream: JetStreamContext, topology: Topology, subject: str, count: int
) -> bool:
    info = await jetstream.stream_info(topology.stream_for(subject))
    return info.state.messages >= count


async def _has_dead_letters(jetstream: JetStreamContext, topology: Topology) -> bool:
    info = await jetstream.stream_info(topology.dead_letters())
    return info.state.messages > 0


async def _dead_letters(jetstream: JetStreamContext, topology: Topology) -> list[RawStreamMsg]:
    info = await jetstream.stream_info(topology.dead_letters())
    return [
        await jetstream.get_msg(topology.dead_letters(), seq)
        for seq in range(info.state.first_seq, info.state.last_seq + 1)
        if info.state.messages
    ]
