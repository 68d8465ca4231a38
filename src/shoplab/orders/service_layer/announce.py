"""Turning an order's domain events into integration events in the outbox."""

from shoplab.contracts import events as contract
from shoplab.contracts.envelope import Message
from shoplab.orders.domain import events
from shoplab.orders.domain.model import Order
from shoplab.orders.service_layer.unit_of_work import OrdersUnitOfWork


async def announce(uow: OrdersUnitOfWork, order: Order, causation_id: str | None = None) -> None:
    """Publish what happened to ``order`` in the current transaction; clears its events."""
    for event in order.events:
        await uow.publish(
            _integration_event(order, event),
            correlation_id=order.order_id,
            causation_id=causation_id,
        )
    order.events.clear()


def _integration_event(order: Order, event: events.DomainEvent) -> Message:
    common = {
        "order_id": order.order_id,
        "customer_id": order.customer_id,
        "total_cents": order.total_cents,
        "currency": order.currency,
    }
    match event:
        case events.OrderApproved():
            return contract.OrderApproved(**common)
        case events.OrderRejected(reason=reason):
            return contract.OrderRejected(**common, reason=reason)
        case events.OrderCancelled(reason=reason):
            return contract.OrderCancelled(**common, reason=reason)
    raise TypeError(f"no integration event for {event!r}")
