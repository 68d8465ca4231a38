"""Inventory's use cases and command handlers on fakes: no database, no broker.

A reservation holds every line or none, then ends once: committed, released, or
(after a commit) returned. Every step may be asked twice and changes stock once.
"""

import pytest

from shoplab.contracts import commands, events
from shoplab.contracts.envelope import Envelope
from shoplab.inventory.domain.model import InvalidStockLevel, ReservationStatus, UnknownSku
from shoplab.inventory.service_layer import choreography, handlers, services

from ..fakes import deliver
from .fakes import FakeInventoryUnitOfWork


async def reserved(stock: dict[str, int], lines: dict[str, int]) -> FakeInventoryUnitOfWork:
    uow = FakeInventoryUnitOfWork(stock)
    assert await services.reserve(uow, "o1", lines)
    return uow


async def status_of(uow: FakeInventoryUnitOfWork, order_id: str) -> ReservationStatus | None:
    reservation = await uow.reservations.get(order_id)
    return reservation.status if reservation else None


async def test_a_reservation_holds_every_line() -> None:
    uow = await reserved({"KB-001": 5, "MS-002": 3}, {"KB-001": 2, "MS-002": 3})
    assert (uow.level("KB-001"), uow.level("MS-002")) == ((5, 2), (3, 3))
    assert await status_of(uow, "o1") is ReservationStatus.HELD
    assert uow.committed


async def test_a_short_line_holds_nothing_and_the_refusal_is_remembered() -> None:
    uow = FakeInventoryUnitOfWork({"KB-001": 5, "MS-002": 1})
    assert not await services.reserve(uow, "o1", {"KB-001": 2, "MS-002": 2})
    assert (uow.level("KB-001"), uow.level("MS-002")) == ((5, 0), (1, 0))
    assert await status_of(uow, "o1") is ReservationStatus.RELEASED
    await services.count_stock(uow, "MS-002", 10)
    assert not await services.reserve(uow, "o1", {"KB-001": 2, "MS-002": 2})
    assert uow.level("MS-002") == (10, 0)


async def test_an_unknown_sku_is_refused_like_a_short_one() -> None:
    uow = FakeInventoryUnitOfWork({"KB-001": 5})
    assert not await services.reserve(uow, "o1", {"XX-404": 1})
    assert uow.level("KB-001") == (5, 0)


async def test_reserving_twice_for_one_order_holds_once() -> None:
    uow = await reserved({"KB-001": 5}, {"KB-001": 2})
    assert await services.reserve(uow, "o1", {"KB-001": 2})
    assert uow.level("KB-001") == (5, 2)


async def test_a_commit_takes_the_stock_for_good_once() -> None:
    uow = await reserved({"KB-001": 5}, {"KB-001": 2})
    await services.commit_reservation(uow, "o1")
    await services.commit_reservation(uow, "o1")
    assert uow.level("KB-001") == (3, 0)
    assert await status_of(uow, "o1") is ReservationStatus.COMMITTED


async def test_a_release_frees_the_stock_once() -> None:
    uow = await reserved({"KB-001": 5}, {"KB-001": 2})
    await services.release_reservation(uow, "o1")
    await services.release_reservation(uow, "o1")
    assert uow.level("KB-001") == (5, 0)
    assert await status_of(uow, "o1") is ReservationStatus.RELEASED


async def test_a_release_before_its_reservation_refuses_the_reservation() -> None:
    uow = FakeInventoryUnitOfWork({"KB-001": 5})
    await services.release_reservation(uow, "o1")
    assert not await services.reserve(uow, "o1", {"KB-001": 2})
    assert uow.level("KB-001") == (5, 0)


async def test_a_return_puts_committed_stock_back_on_hand_once() -> None:
    uow = await reserved({"KB-001": 5}, {"KB-001": 2})
    await services.commit_reservation(uow, "o1")
    await services.return_stock(uow, "o1")
    await services.return_stock(uow, "o1")
    assert uow.level("KB-001") == (5, 0)
    assert await status_of(uow, "o1") is ReservationStatus.RETURNED


async def test_a_return_of_held_stock_changes_nothing() -> None:
    uow = await reserved({"KB-001": 5}, {"KB-001": 2})
    await services.return_stock(uow, "o1")
    assert uow.level("KB-001") == (5, 2)


async def test_a_count_below_what_is_reserved_is_refused_and_changes_nothing() -> None:
    uow = await reserved({"KB-001": 5}, {"KB-001": 4})
    with pytest.raises(InvalidStockLevel):
        await services.count_stock(uow, "KB-001", 3)
    assert uow.level("KB-001") == (5, 4)
    assert not uow.committed
    with pytest.raises(UnknownSku):
        await services.stock_level(uow, "XX-404")


async def test_seeding_adds_missing_skus_and_never_overwrites_a_count() -> None:
    uow = FakeInventoryUnitOfWork({"KB-001": 7})
    await services.seed(uow, {"KB-001": 100, "MS-002": 50})
    assert (uow.level("KB-001"), uow.level("MS-002")) == ((7, 0), (50, 0))


async def test_the_reserve_command_is_answered_in_its_order_flow() -> None:
    uow = FakeInventoryUnitOfWork({"KB-001": 5})
    command = commands.ReserveStock(order_id="o1", lines={"KB-001": 2})
    envelope = await deliver(uow, handlers.reserve_stock, command)
    [answer] = uow.published
    assert (answer.type, answer.correlation_id, answer.causation_id) == (
        "StockReserved",
        "o1",
        envelope.message_id,
    )
    assert uow.level("KB-001") == (5, 2)


async def test_a_short_reserve_command_is_answered_with_a_failure() -> None:
    uow = FakeInventoryUnitOfWork({"KB-001": 1})
    command = commands.ReserveStock(order_id="o1", lines={"KB-001": 2})
    await deliver(uow, handlers.reserve_stock, command)
    assert uow.messages(events.StockReservationFailed)[0].reason == "OUT_OF_STOCK"


async def test_a_command_delivered_twice_is_applied_and_answered_once() -> None:
    uow = FakeInventoryUnitOfWork({"KB-001": 5})
    command = commands.ReserveStock(order_id="o1", lines={"KB-001": 2})
    first = await deliver(uow, handlers.reserve_stock, command)
    await deliver(uow, handlers.reserve_stock, command, again=first)
    assert uow.level("KB-001") == (5, 2)
    assert uow.published_types() == ["StockReserved"]


async def test_a_command_sent_again_is_answered_again_and_applied_once() -> None:
    uow = FakeInventoryUnitOfWork({"KB-001": 5})
    command = commands.ReserveStock(order_id="o1", lines={"KB-001": 2})
    await deliver(uow, handlers.reserve_stock, command)
    await deliver(uow, handlers.reserve_stock, command)  # a saga resending a late step
    assert uow.level("KB-001") == (5, 2)
    assert uow.published_types() == ["StockReserved", "StockReserved"]


async def test_a_handlers_use_case_commits_with_the_consumer_not_alone() -> None:
    uow = FakeInventoryUnitOfWork({"KB-001": 5})
    command = commands.ReserveStock(order_id="o1", lines={"KB-001": 2})
    async with uow:  # the consumer's transaction, ended without its commit
        await handlers.reserve_stock(command, Envelope.wrap(command), uow)
    assert uow.level("KB-001") == (5, 0)
    assert uow.published == []


async def test_in_a_choreography_a_failed_payment_releases_the_stock() -> None:
    uow = await reserved({"KB-001": 5}, {"KB-001": 2})
    failed = events.PaymentFailed(order_id="o1", outcome="DECLINED")
    await deliver(uow, choreography.on_payment_failed, failed)
    assert uow.level("KB-001") == (5, 0)
    assert uow.published_types() == ["StockReleased"]
