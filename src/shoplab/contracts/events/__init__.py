"""Integration events, one module per publishing context."""

from shoplab.contracts.envelope import Message
from shoplab.contracts.events.identity import CustomerRegistered
from shoplab.contracts.events.inventory import (
    StockCommitted,
    StockReleased,
    StockReservationFailed,
    StockReserved,
    StockReturned,
)
from shoplab.contracts.events.orders import OrderApproved, OrderCancelled, OrderRejected
from shoplab.contracts.events.payments import (
    PaymentCharged,
    PaymentFailed,
    PaymentRefunded,
    PaymentVoided,
)

ALL_EVENTS: tuple[type[Message], ...] = (
    CustomerRegistered,
    OrderApproved,
    OrderRejected,
    OrderCancelled,
    StockReserved,
    StockReservationFailed,
    StockCommitted,
    StockReleased,
    StockReturned,
    PaymentCharged,
    PaymentFailed,
    PaymentRefunded,
    PaymentVoided,
)

__all__ = [
    "ALL_EVENTS",
    "CustomerRegistered",
    "OrderApproved",
    "OrderCancelled",
    "OrderRejected",
    "PaymentCharged",
    "PaymentFailed",
    "PaymentRefunded",
    "PaymentVoided",
    "StockCommitted",
    "StockReleased",
    "StockReservationFailed",
    "StockReserved",
    "StockReturned",
]
