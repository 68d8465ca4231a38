"""Fault orders over a real NATS: every instance obeys a signed order and answers."""

import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from shoplab.operations.faults import send_fault, signed_order
from shoplab.platform.faults import FaultInjector, FaultListener, control_subject
from shoplab.platform.internal_auth import (
    ServiceCredentials,
    ensure_service_secret,
    load_service_secret,
)
from shoplab.platform.messaging.jetstream.bus import NatsBus
from shoplab.platform.messaging.streams import Topology

from ..nats_server import nats_url

__all__ = ["nats_url"]


@pytest.fixture
def topology() -> Topology:
    return Topology(namespace=f"f{uuid.uuid4().hex[:12]}")


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    ensure_service_secret(tmp_path)
    return tmp_path


@pytest.fixture
async def instances(
    nats_url: str, topology: Topology, data_dir: Path
) -> AsyncIterator[list[FaultInjector]]:
    """Two instances of payments listening on their control subject."""
    credentials = ServiceCredentials(load_service_secret(data_dir), "payments")
    injectors, buses = [], []
    for number in (1, 2):
        injector = FaultInjector(credentials)
        bus = NatsBus(nats_url, service=f"payments-{number}", topology=topology)
        await bus.start()
        listener = FaultListener(injector, f"payments-{number}")
        await bus.answer(topology.wire(control_subject("payments")), listener.handle)
        injectors.append(injector)
        buses.append(bus)
    yield injectors
    for bus in buses:
        await bus.stop()


async def test_every_instance_obeys_a_signed_order_and_answers(
    nats_url: str, topology: Topology, data_dir: Path, instances: list[FaultInjector]
) -> None:
    order = signed_order(data_dir, latency_ms=5000, error_rate=0.5)
    answers = await send_fault(nats_url, topology, "payments", order, instances=2)
    assert [a["instance"] for a in answers] == ["payments-1", "payments-2"]
    assert all(a["obeyed"] and a["latency_ms"] == 5000 for a in answers), answers
    assert all(i.faults.latency_ms == 5000 and i.faults.error_rate == 0.5 for i in instances)

    cleared = await send_fault(
        nats_url, topology, "payments", signed_order(data_dir, 0, 0.0), instances=2
    )
    assert len(cleared) == 2
    assert not any(i.faults.active for i in instances)


async def test_an_order_signed_with_another_secret_changes_nothing(
    nats_url: str, topology: Topology, tmp_path: Path, instances: list[FaultInjector]
) -> None:
    elsewhere = tmp_path / "another-run"
    ensure_service_secret(elsewhere)
    forged = signed_order(elsewhere, latency_ms=5000, error_rate=1.0)
    answers = await send_fault(nats_url, topology, "payments", forged, instances=2)
    assert [a["obeyed"] for a in answers] == [False, False]
    assert not any(i.faults.active for i in instances)


async def test_other_services_do_not_hear_the_order(
    nats_url: str, topology: Topology, data_dir: Path, instances: list[FaultInjector]
) -> None:
    order = signed_order(data_dir, latency_ms=100, error_rate=0.0)
    answers = await send_fault(nats_url, topology, "orders", order, instances=1, wait=0.5)
    assert answers == []
    assert not any(i.faults.active for i in instances)
