"""Placing orders in the monolith: one ACID transaction across three contexts."""

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from pydantic import SecretStr

from shoplab.inventory.adapters.tables import reservations
from shoplab.inventory.service_layer import services as inventory
from shoplab.monolith.app import Monolith
from shoplab.orders.adapters.tables import orders
from shoplab.orders.service_layer.commands import PlaceOrder
from shoplab.orders.service_layer.services import IdempotencyKeyReused, place_order
from shoplab.payments.domain.model import ChargeOutcome
from shoplab.platform.settings import PlatformSettings

from ..databases import count_rows


class BrokenProcessor:
    """A card processor that fails mid-placement, after stock was reserved."""

    def accepts(self, method: str) -> bool:
        return True

    async def charge(self, method: str, amount_cents: int, currency: str) -> ChargeOutcome:
        raise ConnectionError("processor unreachable")


@pytest.fixture
async def monolith(database_url: str, tmp_path: Path) -> AsyncIterator[Monolith]:
    settings = PlatformSettings(
        data_dir=tmp_path, database_url=database_url, admin_password=SecretStr("admin-password")
    )
    system = Monolith(settings)
    await system.start()
    try:
        yield system
    finally:
        await system.stop()


async def set_stock(system: Monolith, sku: str, on_hand: int) -> None:
    await inventory.count_stock(system.inventory.uow(), sku, on_hand)


async def test_concurrent_orders_never_oversell(monolith: Monolith) -> None:
    await set_stock(monolith, "KB-001", 7)
    commands = [PlaceOrder(f"c{n}", {"KB-001": 1}, "pm_card_visa") for n in range(20)]
    placed = await asyncio.gather(
        *(place_order(monolith.orders.uow(), monolith.orders.connect, c) for c in commands)
    )
    statuses = sorted(order.status.value for order in placed)
    assert statuses.count("APPROVED") == 7
    assert statuses.count("REJECTED") == 13
    level = await inventory.stock_level(monolith.inventory.uow(), "KB-001")
    assert (level.on_hand, level.reserved) == (0, 0)


async def test_a_failure_midway_rolls_back_every_context(monolith: Monolith) -> None:
    await set_stock(monolith, "MS-002", 5)
    monolith.payments.processor = BrokenProcessor()
    command = PlaceOrder("c1", {"MS-002": 2}, "pm_card_visa")
    with pytest.raises(ConnectionError):
        await place_order(monolith.orders.uow(), monolith.orders.connect, command)
    level = await inventory.stock_level(monolith.inventory.uow(), "MS-002")
    assert (level.on_hand, level.reserved) == (5, 0)
    assert await count_rows(monolith.database, orders.name) == 0
    assert await count_rows(monolith.database, reservations.name) == 0


async def test_concurrent_requests_with_one_idempotency_key_place_one_order(
    monolith: Monolith,
) -> None:
    await set_stock(monolith, "HB-012", 50)
    command = PlaceOrder("c1", {"HB-012": 1}, "pm_card_visa", idempotency_key="k-1")
    placed = await asyncio.gather(
        *(place_order(monolith.orders.uow(), monolith.orders.connect, command) for _ in range(8))
    )
    assert len({order.order_id for order in placed}) == 1
    level = await inventory.stock_level(monolith.inventory.uow(), "HB-012")
    assert level.on_hand == 49
    reused = PlaceOrder("c1", {"HB-012": 2}, "pm_card_visa", idempotency_key="k-1")
    with pytest.raises(IdempotencyKeyReused):
        await place_order(monolith.orders.uow(), monolith.orders.connect, reused)


async def test_a_restart_keeps_counted_stock_and_the_admin(monolith: Monolith) -> None:
    await set_stock(monolith, "NB-024", 3)
    restarted = Monolith(monolith.settings)
    await restarted.start()
    try:
        level = await inventory.stock_level(restarted.inventory.uow(), "NB-024")
        assert level.on_hand == 3
        assert await restarted.identity.start() is None  # the administrator exists already
    finally:
        await restarted.stop()
