"""The order aggregate: valid lines, the total, and the life of its status."""

from datetime import UTC, datetime

import pytest

from shoplab.orders.domain import events
from shoplab.orders.domain.model import (
    MAX_LINES,
    InvalidOrder,
    NotCancellable,
    Order,
    OrderLine,
    OrderStatus,
    Reason,
)
from shoplab.orders.service_layer.commands import PlaceOrder
from shoplab.platform.errors import Conflict

NOW = datetime(2026, 1, 1, tzinfo=UTC)


def place(*lines: OrderLine) -> Order:
    return Order.place("o1", "c1", list(lines), "USD", NOW)


def test_total_is_the_sum_of_the_lines() -> None:
    order = place(OrderLine("A", 2, 150), OrderLine("B", 1, 1000))
    assert order.total_cents == 1300
    assert order.status is OrderStatus.PENDING
    assert order.reason is None


@pytest.mark.parametrize("count", [0, MAX_LINES + 1])
def test_an_order_has_one_to_twenty_lines(count: int) -> None:
    lines = [OrderLine(f"SKU-{n}", 1, 100) for n in range(count)]
    with pytest.raises(InvalidOrder):
        place(*lines)


@pytest.mark.parametrize("quantity", [0, -1, 101])
def test_quantities_are_between_one_and_a_hundred(quantity: int) -> None:
    with pytest.raises(InvalidOrder):
        place(OrderLine("A", quantity, 100))


def test_a_sku_appears_on_one_line_only() -> None:
    with pytest.raises(InvalidOrder):
        place(OrderLine("A", 1, 100), OrderLine("A", 2, 100))


def test_approve_records_the_event() -> None:
    order = place(OrderLine("A", 1, 100))
    order.approve(NOW)
    assert order.status is OrderStatus.APPROVED
    assert order.events == [events.OrderApproved("o1")]


def test_reject_keeps_the_reason() -> None:
    order = place(OrderLine("A", 1, 100))
    order.reject(Reason.OUT_OF_STOCK, NOW)
    assert (order.status, order.reason) == (OrderStatus.REJECTED, Reason.OUT_OF_STOCK)
    assert order.events == [events.OrderRejected("o1", "OUT_OF_STOCK")]


def test_a_final_order_cannot_be_settled_again() -> None:
    order = place(OrderLine("A", 1, 100))
    order.reject(Reason.PAYMENT_DECLINED, NOW)
    with pytest.raises(Conflict):
        order.approve(NOW)


def test_only_an_approved_order_can_be_cancelled() -> None:
    order = place(OrderLine("A", 1, 100))
    with pytest.raises(NotCancellable):
        order.cancel(NOW)
    order.approve(NOW)
    order.cancel(NOW)
    assert (order.status, order.reason) == (OrderStatus.CANCELLED, Reason.CANCELLED_BY_CUSTOMER)
    with pytest.raises(NotCancellable):
        order.cancel(NOW)


def test_the_fingerprint_ignores_line_order_but_not_content() -> None:
    first = PlaceOrder("c1", {"A": 1, "B": 2}, "pm_card_visa", "key")
    same = PlaceOrder("c1", {"B": 2, "A": 1}, "pm_card_visa", "key")
    other_card = PlaceOrder("c1", {"A": 1, "B": 2}, "pm_card_mastercard", "key")
    other_quantity = PlaceOrder("c1", {"A": 1, "B": 3}, "pm_card_visa", "key")
    assert first.fingerprint() == same.fingerprint()
    assert first.fingerprint() != other_card.fingerprint()
    assert first.fingerprint() != other_quantity.fingerprint()
