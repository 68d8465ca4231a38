"""Orders use cases.

In the modular monolith an order is placed in one ACID transaction: stock is
reserved, the card charged, and the order approved or rejected before the
commit, with the collaborators' work joined to the same transaction.
"""

import uuid
from collections.abc import Callable

from shoplab.contracts import events as contract
from shoplab.contracts.envelope import Message
from shoplab.orders.adapters.repository import OrderSummary
from shoplab.orders.domain import events
from shoplab.orders.domain.model import (
    InvalidOrder,
    Order,
    OrderLine,
    OrderNotFound,
    Reason,
)
from shoplab.orders.service_layer.commands import PlaceOrder
from shoplab.orders.service_layer.ports import Collaborators, PaymentResult
from shoplab.orders.service_layer.unit_of_work import OrdersUnitOfWork
from shoplab.platform.auth import Principal
from shoplab.platform.errors import Conflict
from shoplab.platform.time import now

Connect = Callable[[OrdersUnitOfWork], Collaborators]
"""Builds the collaborators for one transaction (joined to it in the monolith)."""

PAYMENT_FAILURES = {
    PaymentResult.DECLINED: Reason.PAYMENT_DECLINED,
    PaymentResult.INSUFFICIENT_FUNDS: Reason.INSUFFICIENT_FUNDS,
}


class IdempotencyKeyReused(Conflict):
    def __init__(self) -> None:
        super().__init__("This Idempotency-Key was used with a different request body.")


async def place_order(uow: OrdersUnitOfWork, connect: Connect, command: PlaceOrder) -> Order:
    """Place an order and settle it; a replayed Idempotency-Key returns the first order."""
    async with uow:
        order_id = str(uuid.uuid4())
        if command.idempotency_key is not None:
            earlier = await _replay(uow, command, order_id)
            if earlier is not None:
                return earlier
        collaborators = connect(uow)
        order = await _new_order(collaborators, order_id, command)
        await _settle(order, collaborators, command.payment_method)
        await uow.orders.add(order)
        await _announce(uow, order)
        await uow.commit()
        return order


async def _replay(uow: OrdersUnitOfWork, command: PlaceOrder, order_id: str) -> Order | None:
    assert command.idempotency_key is not None
    claim = await uow.idempotency_keys.claim(
        command.customer_id, command.idempotency_key, command.fingerprint(), order_id
    )
    if claim.order_id == order_id:
        return None
    if claim.fingerprint != command.fingerprint():
        raise IdempotencyKeyReused
    return await uow.orders.get(claim.order_id)


async def _new_order(collaborators: Collaborators, order_id: str, command: PlaceOrder) -> Order:
    if not collaborators.payments.accepts(command.payment_method):
        raise InvalidOrder(f"Payment method {command.payment_method!r} is not accepted.")
    prices = await collaborators.prices.prices(list(command.quantities))
    unknown = sorted(set(command.quantities) - set(prices))
    if unknown:
        raise InvalidOrder(f"Unknown sku: {', '.join(unknown)}.")
    currencies = {price.currency for price in prices.values()}
    if len(currencies) != 1:
        raise InvalidOrder("All lines of an order must be priced in one currency.")
    lines = [
        OrderLine(sku, quantity, prices[sku].unit_price_cents)
        for sku, quantity in command.quantities.items()
    ]
    return Order.place(order_id, command.customer_id, lines, currencies.pop(), now())


async def _settle(order: Order, collaborators: Collaborators, method: str) -> None:
    """Reserve, charge, then approve; or undo what was done and reject."""
    stock, payments = collaborators.stock, collaborators.payments
    if not await stock.reserve(order.order_id, order.quantities()):
        order.reject(Reason.OUT_OF_STOCK, now())
        return
    result = await payments.charge(order.order_id, order.total_cents, order.currency, method)
    if result is PaymentResult.CHARGED:
        await stock.commit(order.order_id)
        order.approve(now())
    else:
        await stock.release(order.order_id)
        order.reject(PAYMENT_FAILURES[result], now())


async def cancel_order(
    uow: OrdersUnitOfWork, connect: Connect, order_id: str, principal: Principal
) -> Order:
    """Cancel an approved order: stock goes back, the payment is refunded in full."""
    async with uow:
        order = await _visible_order(uow, order_id, principal, lock=True)
        order.cancel(now())
        collaborators = connect(uow)
        await collaborators.stock.return_stock(order.order_id)
        await collaborators.payments.refund(order.order_id)
        await uow.orders.save(order)
        await _announce(uow, order)
        await uow.commit()
        return order


async def get_order(uow: OrdersUnitOfWork, order_id: str, principal: Principal) -> Order:
    async with uow.read_only():
        return await _visible_order(uow, order_id, principal)


async def list_orders(
    uow: OrdersUnitOfWork, principal: Principal, limit: int = 100
) -> list[OrderSummary]:
    """The caller's newest orders, at most ``limit``."""
    async with uow.read_only():
        return await uow.orders.summaries_for(principal.customer_id, limit)


async def _visible_order(
    uow: OrdersUnitOfWork, order_id: str, principal: Principal, *, lock: bool = False
) -> Order:
    """Another customer's order is answered exactly like a missing one."""
    order = await uow.orders.get(order_id, lock=lock)
    if order is None or not (principal.is_admin or order.customer_id == principal.customer_id):
        raise OrderNotFound(order_id)
    return order


async def _announce(uow: OrdersUnitOfWork, order: Order) -> None:
    """Turn the order's domain events into integration events in the outbox."""
    for event in order.events:
        await uow.publish(_integration_event(order, event), correlation_id=order.order_id)
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
