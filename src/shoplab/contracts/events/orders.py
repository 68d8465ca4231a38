"""Events published by the orders context: one per final outcome of an order."""

from typing import ClassVar

from shoplab.contracts.envelope import Message


class OrderOutcome(Message):
    context: ClassVar[str] = "orders"

    order_id: str
    customer_id: str
    total_cents: int
    currency: str


class OrderApproved(OrderOutcome):
    """Stock is taken and the payment charged."""


class OrderRejected(OrderOutcome):
    """The order ended without effects; ``reason`` says why."""

    reason: str


class OrderCancelled(OrderOutcome):
    """An approved order was cancelled: stock returned, payment refunded."""

    reason: str
