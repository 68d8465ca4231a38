"""Placing and cancelling orders through the service layer, on fakes: no database, no broker.

Each test builds the fakes, calls one use case, and looks at what it left behind: the
stored order, the messages in the committed outbox, and whether it committed.
"""

import pytest

from shoplab.contracts import events
from shoplab.orders.domain.model import (
    InvalidOrder,
    NotCancellable,
    Order,
    OrderNotFound,
    OrderStatus,
    Reason,
)
from shoplab.orders.service_layer import services
from shoplab.orders.service_layer.commands import PlaceOrder
from shoplab.orders.service_layer.ports import Collaborators, PaymentResult, Price, Settlement
from shoplab.orders.service_layer.settle_in_transaction import SettleInTransaction
from shoplab.platform.auth import Principal

from .fakes import (
    FakeOrdersUnitOfWork,
    FakePaymentMethods,
    FakePayments,
    FakePriceList,
    FakeSettlement,
    FakeStockReservations,
)

VISA, DECLINED = "pm_card_visa", "pm_card_chargeDeclined"
ADA = Principal("ada", "customer")


class Shop:
    """The orders context on fakes, with the collaborators one placement connects to."""

    def __init__(self, settlement: Settlement) -> None:
        self.uow = FakeOrdersUnitOfWork()
        self.prices = FakePriceList({"KB-001": Price(4_500, "EUR"), "MS-002": Price(2_000, "EUR")})
        self.methods = FakePaymentMethods(VISA, DECLINED)
        self.settlement = settlement

    def connect(self, _uow: FakeOrdersUnitOfWork) -> Collaborators:
        return Collaborators(self.prices, self.methods, self.settlement)

    async def place(
        self, quantities: dict[str, int], method: str = VISA, key: str | None = None
    ) -> Order:
        command = PlaceOrder(ADA.customer_id, quantities, method, idempotency_key=key)
        return await services.place_order(self.uow, self.connect, command)


def approving() -> tuple[Shop, FakeSettlement]:
    """A settlement that approves at once: the placement's own rules, alone."""
    settlement = FakeSettlement()
    return Shop(settlement), settlement


def in_transaction(stock: dict[str, int]) -> tuple[Shop, FakeStockReservations, FakePayments]:
    """The monolith's settlement: stock and payment settled in the placement's transaction."""
    reservations = FakeStockReservations(stock)
    payments = FakePayments({VISA: PaymentResult.CHARGED, DECLINED: PaymentResult.DECLINED})
    return Shop(SettleInTransaction(reservations, payments)), reservations, payments


async def test_placing_an_order_stores_it_and_announces_it_in_one_commit() -> None:
    shop, _ = approving()
    order = await shop.place({"KB-001": 2})
    stored = await shop.uow.orders.get(order.order_id)
    assert stored is not None
    assert (stored.status, stored.total_cents, stored.currency) == (
        OrderStatus.APPROVED,
        9_000,
        "EUR",
    )
    assert shop.uow.committed
    assert shop.uow.published_types() == ["OrderPlaced", "OrderApproved"]
    assert {e.correlation_id for e in shop.uow.published} == {order.order_id}


async def test_an_order_is_priced_by_the_price_list_when_it_is_placed() -> None:
    shop, _ = approving()
    first = await shop.place({"KB-001": 1})
    shop.prices.catalog["KB-001"] = Price(5_000, "EUR")
    second = await shop.place({"KB-001": 1})
    assert (first.total_cents, second.total_cents) == (4_500, 5_000)
    kept = await shop.uow.orders.get(first.order_id)
    assert kept is not None
    assert kept.total_cents == 4_500


async def test_the_same_idempotency_key_twice_places_one_order() -> None:
    shop, settlement = approving()
    first = await shop.place({"KB-001": 1}, key="k-1")
    again = await shop.place({"KB-001": 1}, key="k-1")
    assert again.order_id == first.order_id
    assert len(shop.uow.orders.rows) == 1
    assert settlement.settled == [first.order_id]
    assert shop.uow.published_types() == ["OrderPlaced", "OrderApproved"]


async def test_a_replay_after_a_price_change_returns_the_first_order_at_its_price() -> None:
    shop, _ = approving()
    first = await shop.place({"KB-001": 1}, key="k-1")
    shop.prices.catalog["KB-001"] = Price(9_999, "EUR")
    again = await shop.place({"KB-001": 1}, key="k-1")
    assert (again.order_id, again.total_cents) == (first.order_id, 4_500)


async def test_a_key_reused_with_another_body_is_refused_and_changes_nothing() -> None:
    shop, _ = approving()
    await shop.place({"KB-001": 1}, key="k-1")
    with pytest.raises(services.IdempotencyKeyReused):
        await shop.place({"KB-001": 2}, key="k-1")
    assert len(shop.uow.orders.rows) == 1
    assert not shop.uow.committed
    assert len(shop.uow.messages(events.OrderPlaced)) == 1


async def test_a_refused_payment_method_places_nothing() -> None:
    shop, _ = approving()
    with pytest.raises(InvalidOrder, match="not accepted"):
        await shop.place({"KB-001": 1}, method="pm_card_unknown")
    assert shop.uow.orders.rows == {}
    assert shop.uow.published == []
    assert not shop.uow.committed


async def test_an_unknown_sku_places_nothing() -> None:
    shop, _ = approving()
    with pytest.raises(InvalidOrder, match="Unknown sku: XX-404"):
        await shop.place({"KB-001": 1, "XX-404": 1})
    assert shop.uow.orders.rows == {}
    assert shop.uow.published == []


async def test_lines_priced_in_two_currencies_are_refused() -> None:
    shop, _ = approving()
    shop.prices.catalog["MS-002"] = Price(2_000, "USD")
    with pytest.raises(InvalidOrder, match="one currency"):
        await shop.place({"KB-001": 1, "MS-002": 1})
    assert shop.uow.orders.rows == {}


async def test_settled_in_the_transaction_an_order_takes_stock_and_payment() -> None:
    shop, stock, payments = in_transaction({"KB-001": 5})
    order = await shop.place({"KB-001": 2})
    assert order.status is OrderStatus.APPROVED
    assert stock.on_hand == {"KB-001": 3}
    assert stock.committed == [order.order_id]
    assert payments.charged == {order.order_id: 9_000}


async def test_settled_in_the_transaction_a_short_stock_rejects_without_charging() -> None:
    shop, _, payments = in_transaction({"KB-001": 1})
    order = await shop.place({"KB-001": 2})
    assert (order.status, order.reason) == (OrderStatus.REJECTED, Reason.OUT_OF_STOCK)
    assert payments.charged == {}
    assert shop.uow.messages(events.OrderRejected)[0].reason == "OUT_OF_STOCK"


async def test_settled_in_the_transaction_a_declined_card_releases_the_stock() -> None:
    shop, stock, _ = in_transaction({"KB-001": 5})
    order = await shop.place({"KB-001": 2}, method=DECLINED)
    assert (order.status, order.reason) == (OrderStatus.REJECTED, Reason.PAYMENT_DECLINED)
    assert stock.released == [order.order_id]
    assert stock.on_hand == {"KB-001": 5}


async def test_cancelling_an_approved_order_returns_stock_and_refunds() -> None:
    shop, stock, payments = in_transaction({"KB-001": 5})
    order = await shop.place({"KB-001": 2})
    cancelled = await services.cancel_order(shop.uow, shop.connect, order.order_id, ADA)
    assert (cancelled.status, cancelled.reason) == (
        OrderStatus.CANCELLED,
        Reason.CANCELLED_BY_CUSTOMER,
    )
    stored = await shop.uow.orders.get(order.order_id)
    assert stored is not None
    assert stored.status is OrderStatus.CANCELLED
    assert (stock.on_hand, stock.returned, payments.refunded) == (
        {"KB-001": 5},
        [order.order_id],
        [order.order_id],
    )
    assert shop.uow.published_types()[-1] == "OrderCancelled"


async def test_cancelling_a_rejected_order_is_refused_and_changes_nothing() -> None:
    shop, _, _ = in_transaction({"KB-001": 0})
    order = await shop.place({"KB-001": 1})
    published = list(shop.uow.published)
    with pytest.raises(NotCancellable):
        await services.cancel_order(shop.uow, shop.connect, order.order_id, ADA)
    assert not shop.uow.committed
    assert shop.uow.published == published


async def test_another_customers_order_cannot_be_cancelled_nor_seen() -> None:
    shop, settlement = approving()
    order = await shop.place({"KB-001": 1})
    grace = Principal("grace", "customer")
    with pytest.raises(OrderNotFound):
        await services.cancel_order(shop.uow, shop.connect, order.order_id, grace)
    with pytest.raises(OrderNotFound):
        await services.get_order(shop.uow, order.order_id, grace)
    assert settlement.cancelled == []


async def test_the_order_list_shows_the_callers_newest_orders_first() -> None:
    shop, _ = approving()
    first = await shop.place({"KB-001": 1})
    second = await shop.place({"MS-002": 1})
    listed = await services.list_orders(shop.uow, ADA, limit=1)
    newest = max(first, second, key=lambda order: (order.created_at, order.order_id))
    assert [summary.order_id for summary in listed] == [newest.order_id]
    assert await services.list_orders(shop.uow, Principal("grace", "customer")) == []
