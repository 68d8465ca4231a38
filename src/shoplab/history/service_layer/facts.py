"""From the published language to the history's facts: one function per event type.

Events the history does not follow (stock, registrations, commands' answers it
does not need, types added later) give no fact and are passed over.
"""

from collections.abc import Callable

from pydantic import BaseModel

from shoplab.contracts.envelope import Envelope
from shoplab.contracts.events import (
    OrderApproved,
    OrderCancelled,
    OrderPlaced,
    OrderRejected,
    PaymentCharged,
    PaymentFailed,
    PaymentRefunded,
    PaymentVoided,
)
from shoplab.contracts.events.notifications import NotificationSent
from shoplab.contracts.events.orders import OrderOutcome
from shoplab.history.domain import model

SOURCES = ("orders", "payments", "notifications")
"""The logs the history reads, each from its own position."""


def _placed(event: OrderPlaced) -> model.Fact:
    return model.Placed(
        event.order_id, event.customer_id, event.total_cents, event.currency, event.placed_at
    )


def _settled(status: model.Status) -> Callable[[OrderOutcome], model.Fact]:
    def fact(event: OrderOutcome) -> model.Fact:
        return model.Settled(
            order_id=event.order_id,
            customer_id=event.customer_id,
            status=status,
            reason=getattr(event, "reason", None),
            total_cents=event.total_cents,
            currency=event.currency,
            updated_at=event.updated_at,
        )

    return fact


FACTS: dict[str, tuple[type[BaseModel], Callable[..., model.Fact]]] = {
    "OrderPlaced": (OrderPlaced, _placed),
    "OrderApproved": (OrderApproved, _settled(model.Status.APPROVED)),
    "OrderRejected": (OrderRejected, _settled(model.Status.REJECTED)),
    "OrderCancelled": (OrderCancelled, _settled(model.Status.CANCELLED)),
    "PaymentCharged": (PaymentCharged, lambda e: model.Charged(e.order_id, e.amount_cents)),
    "PaymentRefunded": (PaymentRefunded, lambda e: model.Refunded(e.order_id, e.refunded_cents)),
    "PaymentVoided": (PaymentVoided, lambda e: model.Refunded(e.order_id, e.refunded_cents)),
    "PaymentFailed": (PaymentFailed, lambda e: model.PaymentFailed(e.order_id, e.outcome)),
    "NotificationSent": (
        NotificationSent,
        lambda e: model.Notified(e.order_id, e.notification_kind),
    ),
}


def fact_of(envelope: Envelope) -> model.Fact | None:
    """The fact an event tells the history, or ``None`` for an event it does not follow."""
    known = FACTS.get(envelope.type)
    if known is None:
        return None
    schema, fact = known
    return fact(schema.model_validate(envelope.payload))
