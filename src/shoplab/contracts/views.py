"""Public answer shapes that more than one process serves.

``GET /api/orders`` is answered by orders in the monolith and by the history's read
model in the microservices mode (docs/history.md); the order details are composed by
the monolith and by the gateway from the orders', payments' and notifications' own
answers. Each must answer exactly the same fields, and the public OpenAPI document
must describe them the same way in both modes, so the shapes are written once, here.
"""

from datetime import datetime

from pydantic import BaseModel


class OrderSummary(BaseModel):
    order_id: str
    status: str
    reason: str | None
    total_cents: int
    currency: str
    created_at: datetime
    updated_at: datetime


class OrderList(BaseModel):
    """A customer's orders, newest first."""

    items: list[OrderSummary]


class LineView(BaseModel):
    """One line of an order, at the price it was placed at."""

    sku: str
    quantity: int
    unit_price_cents: int


class OrderView(OrderSummary):
    """An order: its status, why it ended so (``reason``), its lines and total."""

    customer_id: str
    items: list[LineView]


class PaymentView(BaseModel):
    """What an order was charged and refunded, in cents."""

    order_id: str
    charged_cents: int
    refunded_cents: int
    status: str


class NotificationView(BaseModel):
    """A message sent about an order."""

    kind: str
    order_id: str
    recipient: str
    sent_at: datetime


class OrderDetails(BaseModel):
    """One answer composed from several owners; ``degraded`` names the parts that could not
    be fetched (then ``null`` or ``[]``) instead of failing the whole answer."""

    order: OrderView
    payment: PaymentView | None
    notifications: list[NotificationView]
    degraded: list[str]
