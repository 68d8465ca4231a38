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
from shoplab.contracts.events.notifications import NotificationSent
from shoplab.contracts.events.orders import (
    OrderApproved,
    OrderCancellationRequested,
    OrderCancelled,
    OrderPlaced,
    OrderRejected,
    PlacedLine,
)
from shoplab.contracts.events.payments import (
    PaymentCharged,
    PaymentFailed,
    PaymentRefunded,
    PaymentVoided,
)

ALL_EVENTS: tuple[type[Message], ...] = (
    CustomerRegistered,
    OrderPlaced,
    OrderApproved,
    OrderRejected,
    OrderCancelled,
    OrderCancellationRequested,
    StockReserved,
    StockReservationFailed,
    StockCommitted,
    StockReleased,
    StockReturned,
    PaymentCharged,
    PaymentFailed,
    PaymentRefunded,
    PaymentVoided,
    NotificationSent,
)

__all__ = [
    "ALL_EVENTS",
    "CustomerRegistered",
    "NotificationSent",
    "OrderApproved",
    "OrderCancellationRequested",
    "OrderCancelled",
    "OrderPlaced",
    "OrderRejected",
    "PaymentCharged",
    "PaymentFailed",
    "PaymentRefunded",
    "PaymentVoided",
    "PlacedLine",
    "StockCommitted",
    "StockReleased",
    "StockReservationFailed",
    "StockReserved",
    "StockReturned",
]
