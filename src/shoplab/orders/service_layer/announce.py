"""Turning an order's domain events into integration events in the outbox."""

from shoplab.contracts import events as contract
from shoplab.contracts.envelope import Message
from shoplab.orders.domain import events
from shoplab.orders.domain.model import Order
from shoplab.orders.service_layer.unit_of_work import OrdersUnitOfWork


async def announce_placement(uow: OrdersUnitOfWork, order: Order, payment_method: str) -> None:
    """Publish ``OrderPlaced`` in the placement's transaction, before any outcome."""
    placed = contract.OrderPlaced(
        order_id=order.order_id,
        customer_id=order.customer_id,
        lines=[
            contract.PlacedLine(
                sku=line.sku, quantity=line.quantity, unit_price_cents=line.unit_price_cents
            )
            for line in order.lines
        ],
        total_cents=order.total_cents,
        currency=order.currency,
        payment_method=payment_method,
        placed_at=order.created_at,
    )
    await uow.publish(placed, correlation_id=order.order_id)


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
        "updated_at": order.updated_at,
    }
    match event:
        case events.OrderApproved():
            return contract.OrderApproved(**common)
        case events.OrderRejected(reason=reason):
            return contract.OrderRejected(**common, reason=reason)
        case events.OrderCancelled(reason=reason):
            return contract.OrderCancelled(**common, reason=reason)
    raise TypeError(f"no integration event for {event!r}")
