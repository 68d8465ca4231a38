"""Admission in the monolith: past the bound, a placement is refused and nothing is made.

The bound is 1 (``SHOPLAB_ORDERS_MAX_IN_FLIGHT``); a card processor that answers only
when told holds one placement in progress, so the next is past the bound.
"""

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from pydantic import SecretStr

from shoplab.inventory.service_layer import services as inventory
from shoplab.monolith.app import Monolith
from shoplab.orders.adapters.tables import idempotency_keys, orders
from shoplab.orders.domain.model import Order
from shoplab.orders.service_layer.admission import PlacementsOverloaded
from shoplab.orders.service_layer.commands import PlaceOrder
from shoplab.orders.service_layer.services import place_order
from shoplab.payments.domain.model import ChargeOutcome
from shoplab.platform.settings import PlatformSettings

from ..databases import count_rows


class HeldProcessor:
    """A card processor that charges only once ``release`` is set."""

    def __init__(self) -> None:
        self.asked = asyncio.Event()
        self.release = asyncio.Event()

    def accepts(self, method: str) -> bool:
        return True

    async def charge(self, method: str, amount_cents: int, currency: str) -> ChargeOutcome:
        self.asked.set()
        await self.release.wait()
        return ChargeOutcome.CHARGED


@pytest.fixture
async def monolith(
    database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[Monolith]:
    monkeypatch.setenv("SHOPLAB_ORDERS_MAX_IN_FLIGHT", "1")
    settings = PlatformSettings(
        data_dir=tmp_path, database_url=database_url, admin_password=SecretStr("admin-password")
    )
    system = Monolith(settings)
    await system.start()
    try:
        yield system
    finally:
        await system.stop()


async def test_a_placement_past_the_bound_is_refused_then_placed_once_when_sent_again(
    monolith: Monolith,
) -> None:
    await inventory.count_stock(monolith.inventory.uow(), "KB-001", 10)
    processor = HeldProcessor()
    monolith.payments.processor = processor

    def place(key: str | None = None) -> "asyncio.Task[Order]":
        command = PlaceOrder("c1", {"KB-001": 1}, "pm_card_visa", idempotency_key=key)
        orders_ = monolith.orders
        return asyncio.create_task(place_order(orders_.uow(), orders_.connect, command))

    held = place()
    try:
        await asyncio.wait_for(processor.asked.wait(), 10)
        with pytest.raises(PlacementsOverloaded) as refused:
            await place("k-1")
    finally:
        processor.release.set()
    await held
    assert refused.value.retry_after_seconds == 1
    assert await count_rows(monolith.database, idempotency_keys.name) == 0
    assert await count_rows(monolith.database, orders.name) == 1

    placed, again = await place("k-1"), await place("k-1")
    assert placed.order_id == again.order_id
    assert await count_rows(monolith.database, orders.name) == 2
