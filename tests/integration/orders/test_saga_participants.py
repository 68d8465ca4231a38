"""Inventory and payments as saga participants: idempotent commands and late arrivals.

A saga that gives up on a step compensates it without knowing whether the step
happened. These tests send the compensation *before* the step and check that
the late step is then refused, so nothing stays held and no money moves.
"""

import pytest

from shoplab.inventory.bootstrap import InventoryContext
from shoplab.inventory.domain.model import StockItem
from shoplab.inventory.service_layer import services as inventory
from shoplab.payments.adapters.card_processor import TestCardProcessor
from shoplab.payments.bootstrap import PaymentsContext
from shoplab.payments.domain.model import ChargeOutcome, PaymentStatus
from shoplab.payments.service_layer import services as payments
from shoplab.platform.persistence.database import Database


@pytest.fixture
async def stock(database: Database) -> InventoryContext:
    context = InventoryContext(database)
    await context.migrate()
    async with context.uow() as uow:
        await uow.stock.add(StockItem("SKU-1", 10))
        await uow.commit()
    return context


@pytest.fixture
async def money(database: Database) -> PaymentsContext:
    context = PaymentsContext(database)
    await context.migrate()
    return context


async def level(context: InventoryContext) -> tuple[int, int]:
    item = await inventory.stock_level(context.uow(), "SKU-1")
    return item.on_hand, item.reserved


async def test_a_reservation_arriving_after_its_release_is_refused(
    stock: InventoryContext,
) -> None:
    await inventory.release_reservation(stock.uow(), "o1")
    assert await inventory.reserve(stock.uow(), "o1", {"SKU-1": 3}) is False
    assert await level(stock) == (10, 0)


async def test_reserving_twice_holds_once(stock: InventoryContext) -> None:
    assert await inventory.reserve(stock.uow(), "o1", {"SKU-1": 3}) is True
    assert await inventory.reserve(stock.uow(), "o1", {"SKU-1": 3}) is True
    assert await level(stock) == (10, 3)
    await inventory.release_reservation(stock.uow(), "o1")
    await inventory.release_reservation(stock.uow(), "o1")
    assert await level(stock) == (10, 0)


async def test_a_charge_arriving_after_its_void_moves_no_money(money: PaymentsContext) -> None:
    assert await payments.void(money.uow(), "o1") == 0
    outcome = await payments.charge(
        money.uow(), TestCardProcessor(), "o1", 1500, "USD", "pm_card_visa"
    )
    assert outcome is ChargeOutcome.VOIDED
    payment = await payments.payment_for(money.uow(), "o1")
    assert (payment.status, payment.net_cents) == (PaymentStatus.VOIDED, 0)


async def test_a_void_after_a_charge_refunds_it_in_full(money: PaymentsContext) -> None:
    processor = TestCardProcessor()
    await payments.charge(money.uow(), processor, "o1", 1500, "USD", "pm_card_visa")
    assert await payments.void(money.uow(), "o1") == 1500
    assert await payments.void(money.uow(), "o1") == 1500, "voiding twice refunds once"
    payment = await payments.payment_for(money.uow(), "o1")
    assert (payment.charged_cents, payment.refunded_cents) == (1500, 1500)
