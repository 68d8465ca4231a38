"""Integration events, one module per publishing context."""

from shoplab.contracts.envelope import Message
from shoplab.contracts.events.identity import CustomerRegistered
from shoplab.contracts.events.orders import OrderApproved, OrderCancelled, OrderRejected

ALL_EVENTS: tuple[type[Message], ...] = (
    CustomerRegistered,
    OrderApproved,
    OrderRejected,
    OrderCancelled,
)

__all__ = ["ALL_EVENTS", "CustomerRegistered", "OrderApproved", "OrderCancelled", "OrderRejected"]
