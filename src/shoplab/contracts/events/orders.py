"""Events published by the orders context: the placement of an order, and each final outcome.

``OrderPlaced`` carries what others need to act on the order without asking orders
(event-carried state transfer): the participants of the choreographed saga and the
order history build from it.
"""

from datetime import datetime
from typing import ClassVar

from pydantic import BaseModel, ConfigDict, Field

from shoplab.contracts.envelope import Message


class PlacedLine(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    sku: str
    quantity: int
    unit_price_cents: int


class OrderPlaced(Message):
    """A customer placed an order; it is ``PENDING`` until it is settled."""

    context: ClassVar[str] = "orders"

    order_id: str
    customer_id: str
    lines: list[PlacedLine] = Field(min_length=1)
    total_cents: int
    currency: str
    payment_method: str
    placed_at: datetime


class OrderOutcome(Message):
    context: ClassVar[str] = "orders"

    order_id: str
    customer_id: str
    total_cents: int
    currency: str
    updated_at: datetime
    """When the order took this status, as ``GET /api/orders/{id}`` shows it."""


class OrderApproved(OrderOutcome):
    """Stock is taken and the payment charged."""


class OrderRejected(OrderOutcome):
    """The order ended without effects; ``reason`` says why."""

    reason: str


class OrderCancelled(OrderOutcome):
    """An approved order was cancelled: stock returned, payment refunded."""

    reason: str


class OrderCancellationRequested(Message):
    """The customer asked to cancel an approved order (choreographed saga only).

    Payments refunds on it, inventory returns the stock on the refund, and orders
    cancels the order once the stock is back. The order stays ``APPROVED`` meanwhile.
    """

    context: ClassVar[str] = "orders"

    order_id: str
    customer_id: str
    requested_at: datetime
