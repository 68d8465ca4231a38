"""Public answer shapes that more than one context serves.

``GET /api/orders`` is answered by orders in the monolith and by the history's read
model in the microservices mode (docs/history.md). Both must answer exactly the same
fields, so the shape is written once, here.
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
