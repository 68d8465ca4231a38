"""History's projector and queries on fakes: events from three logs become one view.

The projector runs as it does in the service, as a task following each source; the
fake log tells when every follower has caught up, so no test waits on a clock.
"""

import asyncio
import contextlib
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import pytest

from shoplab.contracts.commands import ReserveStock
from shoplab.contracts.events import (
    NotificationSent,
    OrderApproved,
    OrderPlaced,
    PaymentCharged,
    PlacedLine,
)
from shoplab.history.domain.model import OrderHistory, Status
from shoplab.history.service_layer import queries
from shoplab.history.service_layer.projector import Projector

from .fakes import FakeEventLog, FakeHistoryUnitOfWork

SOURCES = ("orders", "payments", "notifications")
PLACED_AT = datetime(2026, 1, 1, 12, tzinfo=UTC)


def placed(order_id: str, customer_id: str = "ada") -> OrderPlaced:
    return OrderPlaced(
        order_id=order_id,
        customer_id=customer_id,
        lines=[PlacedLine(sku="KB-001", quantity=2, unit_price_cents=4_500)],
        total_cents=9_000,
        currency="EUR",
        payment_method="pm_card_visa",
        placed_at=PLACED_AT,
    )


def approved(order_id: str) -> OrderApproved:
    return OrderApproved(
        order_id=order_id,
        customer_id="ada",
        total_cents=9_000,
        currency="EUR",
        updated_at=PLACED_AT.replace(second=1),
    )


def a_whole_order(log: FakeEventLog) -> None:
    log.append("orders", placed("o1"))
    log.append("payments", PaymentCharged(order_id="o1", amount_cents=9_000))
    log.append("orders", approved("o1"))
    notified = NotificationSent(
        order_id="o1",
        notification_kind="ORDER_APPROVED",
        recipient="ada@example.org",
        sent_at=PLACED_AT,
    )
    log.append("notifications", notified)


@contextlib.asynccontextmanager
async def projecting(projector: Projector, log: FakeEventLog) -> AsyncIterator[None]:
    """The projector running until the block ends; every source read on entering it."""
    task = asyncio.create_task(projector.run())
    try:
        await log.caught_up(*SOURCES)
        yield
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


async def project(log: FakeEventLog, uow: FakeHistoryUnitOfWork) -> Projector:
    projector = Projector(log, lambda: uow, SOURCES)
    async with projecting(projector, log):
        pass
    return projector


async def test_events_of_three_logs_make_one_entry() -> None:
    log, uow = FakeEventLog(), FakeHistoryUnitOfWork()
    a_whole_order(log)
    await project(log, uow)
    entry = await queries.entry(uow, "o1")
    assert (entry.status, entry.total_cents, entry.charged_cents) == (Status.APPROVED, 9_000, 9_000)
    assert entry.notifications == frozenset({"ORDER_APPROVED"})


async def test_the_view_and_the_positions_commit_together() -> None:
    log, uow = FakeEventLog(), FakeHistoryUnitOfWork()
    a_whole_order(log)
    await project(log, uow)
    positions = {source: position for source, (position, _) in uow.positions.rows.items()}
    assert positions == {"orders": 2, "payments": 1, "notifications": 1}
    assert uow.committed


async def test_an_event_logged_twice_changes_nothing() -> None:
    log, uow = FakeEventLog(), FakeHistoryUnitOfWork()
    a_whole_order(log)
    log.append("payments", PaymentCharged(order_id="o1", amount_cents=9_000))
    log.append("orders", approved("o1"))
    await project(log, uow)
    entry = await queries.entry(uow, "o1")
    assert (entry.status, entry.charged_cents) == (Status.APPROVED, 9_000)


async def test_events_at_or_before_the_stored_position_are_not_applied_again() -> None:
    log, uow = FakeEventLog(), FakeHistoryUnitOfWork()
    log.append("orders", placed("o1"))
    log.append("orders", placed("o2"))
    uow.positions.rows["orders"] = (1, PLACED_AT)  # o1 was applied before a restart
    await project(log, uow)
    assert [entry.order_id for entry in await queries.everything(uow)] == ["o2"]


async def test_an_event_the_history_does_not_follow_only_moves_the_position() -> None:
    log, uow = FakeEventLog(), FakeHistoryUnitOfWork()
    log.append("orders", ReserveStock(order_id="o1", lines={"KB-001": 1}))
    await project(log, uow)
    assert await queries.everything(uow) == []
    assert uow.positions.rows["orders"][0] == 1


async def test_a_rebuild_reads_every_log_again_into_the_same_view() -> None:
    log, uow = FakeEventLog(), FakeHistoryUnitOfWork()
    a_whole_order(log)
    projector = Projector(log, lambda: uow, SOURCES)
    async with projecting(projector, log):
        before = await queries.everything(uow)
        uow.view.rows["o1"] = OrderHistory("o1")  # a view damaged by hand
        await projector.rebuild()
        await log.caught_up(*SOURCES)
        assert await queries.everything(uow) == before


async def test_the_lag_counts_the_events_not_applied_yet() -> None:
    log, uow = FakeEventLog(), FakeHistoryUnitOfWork()
    a_whole_order(log)
    projector = Projector(log, lambda: uow, SOURCES)
    assert {lag.source: lag.messages for lag in await projector.lag()} == {
        "orders": 2,
        "payments": 1,
        "notifications": 1,
    }
    async with projecting(projector, log):
        assert all(lag.caught_up for lag in await projector.lag())


async def test_a_customers_list_holds_only_their_placed_orders_newest_first() -> None:
    log, uow = FakeEventLog(), FakeHistoryUnitOfWork()
    log.append("orders", placed("o1"))
    log.append("orders", placed("o2", customer_id="grace"))
    log.append("payments", PaymentCharged(order_id="o3", amount_cents=100))  # not placed yet
    await project(log, uow)
    assert [entry.order_id for entry in await queries.orders_of(uow, "ada", 10)] == ["o1"]
    with pytest.raises(queries.NotInHistory):
        await queries.entry(uow, "o4")
