"""The operator's commands on the machine's RabbitMQ: dead letters and fault orders."""

import asyncio
import json
import os
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from shoplab.contracts.commands import ReserveStock
from shoplab.contracts.envelope import Envelope
from shoplab.operations import dead_letters
from shoplab.operations.faults import send_fault, signed_order
from shoplab.platform.faults import FaultInjector, FaultListener, control_subject
from shoplab.platform.internal_auth import (
    ServiceCredentials,
    ensure_service_secret,
    load_service_secret,
)
from shoplab.platform.messaging.consumers import Subscription
from shoplab.platform.messaging.dead_letters import DeadLetterNotFound
from shoplab.platform.messaging.errors import BrokerUnreachable
from shoplab.platform.messaging.rabbitmq.bus import RabbitBus
from shoplab.platform.messaging.streams import Topology
from shoplab.runtime.ports import free_ports

from ..rabbitmq import rabbitmq_url, topology

__all__ = ["rabbitmq_url", "topology"]

CONSUMER = "inventory.fragile"


class Fragile:
    """A consumer that fails while ``broken``, and remembers what it handled."""

    def __init__(self) -> None:
        self.broken = True
        self.handled: list[str] = []
        self.arrived = asyncio.Event()

    async def handle(self, envelope: Envelope) -> None:
        if self.broken:
            raise RuntimeError("stock service said no")
        self.handled.append(envelope.message_id)
        self.arrived.set()


@pytest.fixture
async def fragile(
    rabbitmq_url: str, topology: Topology
) -> AsyncIterator[tuple[Fragile, RabbitBus]]:
    consumer = Fragile()
    subscription = Subscription(CONSUMER, ReserveStock.subject(), consumer.handle, max_deliveries=1)
    bus = RabbitBus(rabbitmq_url, service="test", topology=topology)
    bus.subscribe([subscription])
    await bus.start()
    yield consumer, bus
    await bus.stop()


async def dead_lettered(bus: RabbitBus, count: int, url: str, topology: Topology) -> list[str]:
    ids = []
    for number in range(count):
        envelope = Envelope.wrap(ReserveStock(order_id=f"o{number}", lines={"SKU-1": 1}))
        await bus.publish(envelope)
        ids.append(envelope.message_id)
    for _ in range(200):
        if len(await dead_letters.list_dead_letters(url, topology)) == count:
            return ids
        await asyncio.sleep(0.05)
    raise AssertionError(f"{count} dead letters did not arrive")


async def test_list_shows_each_dead_letter_and_puts_it_back(
    fragile: tuple[Fragile, RabbitBus], rabbitmq_url: str, topology: Topology
) -> None:
    _, bus = fragile
    first, second = await dead_lettered(bus, 2, rabbitmq_url, topology)

    letters = await dead_letters.list_dead_letters(rabbitmq_url, topology)
    again = await dead_letters.list_dead_letters(rabbitmq_url, topology)

    assert [letter.message_id for letter in letters] == [first, second]
    assert [letter.message_id for letter in again] == [first, second], "listing removes nothing"
    letter = letters[0]
    assert letter.type == "ReserveStock"
    assert letter.original_subject == ReserveStock.subject()
    assert letter.consumer == CONSUMER
    assert letter.deliveries == 1
    assert "stock service said no" in letter.error
    assert letter.dead_lettered_at is not None


async def test_replay_delivers_the_message_again_and_removes_only_its_letter(
    fragile: tuple[Fragile, RabbitBus], rabbitmq_url: str, topology: Topology
) -> None:
    consumer, bus = fragile
    replayed_id, kept_id = await dead_lettered(bus, 2, rabbitmq_url, topology)
    consumer.broken = False

    replayed = await dead_letters.replay_dead_letter(rabbitmq_url, replayed_id, topology)

    assert replayed.removed == 1
    await asyncio.wait_for(consumer.arrived.wait(), 10)
    assert consumer.handled == [replayed_id]
    remaining = await dead_letters.list_dead_letters(rabbitmq_url, topology)
    assert [letter.message_id for letter in remaining] == [kept_id]
    with pytest.raises(DeadLetterNotFound):
        await dead_letters.replay_dead_letter(rabbitmq_url, replayed_id, topology)


async def test_cli_lists_and_replays_on_rabbitmq(
    fragile: tuple[Fragile, RabbitBus], rabbitmq_url: str, topology: Topology
) -> None:
    consumer, bus = fragile
    (message_id,) = await dead_lettered(bus, 1, rabbitmq_url, topology)
    consumer.broken = False
    namespace = {"SHOPLAB_BROKER_NAMESPACE": topology.namespace}

    code, listed = await shoplab("dlq", "list", "--broker", rabbitmq_url, "--json", env=namespace)
    assert code == 0, listed
    assert [letter["message_id"] for letter in json.loads(listed)] == [message_id]
    code, output = await shoplab(
        "dlq", "replay", message_id, "--broker", rabbitmq_url, env=namespace
    )
    assert code == 0, output
    await asyncio.wait_for(consumer.arrived.wait(), 10)
    assert await dead_letters.list_dead_letters(rabbitmq_url, topology) == []


async def test_an_unreachable_rabbitmq_is_named() -> None:
    (port,) = free_ports(1)
    with pytest.raises(BrokerUnreachable, match=str(port)):
        await dead_letters.list_dead_letters(f"amqp://guest:guest@127.0.0.1:{port}/")


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    ensure_service_secret(tmp_path)
    return tmp_path


@pytest.fixture
async def instances(
    rabbitmq_url: str, topology: Topology, data_dir: Path
) -> AsyncIterator[list[FaultInjector]]:
    """Two instances of payments, each listening on its own queue."""
    credentials = ServiceCredentials(load_service_secret(data_dir), "payments")
    injectors, buses = [], []
    for number in (1, 2):
        injector = FaultInjector(credentials)
        bus = RabbitBus(rabbitmq_url, service=f"payments-{number}", topology=topology)
        await bus.start()
        listener = FaultListener(injector, f"payments-{number}")
        await bus.answer(topology.wire(control_subject("payments")), listener.handle)
        injectors.append(injector)
        buses.append(bus)
    yield injectors
    for bus in buses:
        await bus.stop()


async def test_every_instance_obeys_a_signed_fault_order_and_answers(
    rabbitmq_url: str, topology: Topology, data_dir: Path, instances: list[FaultInjector]
) -> None:
    order = signed_order(data_dir, latency_ms=5000, error_rate=0.5)
    answers = await send_fault(rabbitmq_url, topology, "payments", order, instances=2)
    assert [a["instance"] for a in answers] == ["payments-1", "payments-2"]
    assert all(a["obeyed"] and a["latency_ms"] == 5000 for a in answers), answers
    assert all(i.faults.latency_ms == 5000 for i in instances)

    cleared = await send_fault(
        rabbitmq_url, topology, "payments", signed_order(data_dir, 0, 0.0), instances=2
    )
    assert len(cleared) == 2
    assert not any(i.faults.active for i in instances)


async def test_a_forged_order_changes_nothing_and_other_services_do_not_hear(
    rabbitmq_url: str, topology: Topology, tmp_path: Path, instances: list[FaultInjector]
) -> None:
    elsewhere = tmp_path / "another-run"
    ensure_service_secret(elsewhere)
    forged = signed_order(elsewhere, latency_ms=5000, error_rate=1.0)
    answers = await send_fault(rabbitmq_url, topology, "payments", forged, instances=2)
    assert [a["obeyed"] for a in answers] == [False, False]
    order = signed_order(tmp_path, latency_ms=100, error_rate=0.0)
    assert await send_fault(rabbitmq_url, topology, "orders", order, instances=1, wait=0.5) == []
    assert not any(i.faults.active for i in instances)


async def shoplab(*args: str, env: dict[str, str]) -> tuple[int, str]:
    """Run the CLI in its own process (it runs its own event loop); exit code and output."""
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "shoplab",
        *args,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
        env={**os.environ, "COLUMNS": "200", **env},
    )
    output, _ = await asyncio.wait_for(process.communicate(), 60)
    return process.returncode or 0, output.decode()
