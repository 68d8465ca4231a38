"""Orders use cases.

Placement validates the order against catalog's prices and payments' accepted
methods, then hands it to a ``Settlement``: in the modular monolith stock and
payment are settled in the same ACID transaction; in the microservices mode a
saga starts and the order stays ``PENDING`` until it ends.
"""

import uuid
from collections.abc import Callable
from typing import TypeVar

import structlog

from shoplab.orders.adapters.repository import ClaimedKey, OrderSummary
from shoplab.orders.domain.model import (
    InvalidOrder,
    Order,
    OrderLine,
    OrderNotFound,
    OrderStatus,
)
from shoplab.orders.service_layer.announce import announce, announce_placement
from shoplab.orders.service_layer.commands import PlaceOrder
from shoplab.orders.service_layer.ports import Collaborators
from shoplab.orders.service_layer.unit_of_work import OrdersUnitOfWork
from shoplab.platform.auth import Principal
from shoplab.platform.errors import Conflict
from shoplab.platform.telemetry.orders import about_order
from shoplab.platform.time import now

log = structlog.get_logger(__name__)

U = TypeVar("U", bound=OrdersUnitOfWork)

Connect = Callable[[U], Collaborators]
"""Builds the collaborators for one transaction (joined to it in the monolith).

Generic in the unit of work it is given: the monolith's joins the other contexts to
the SQL session, so it is a ``Connect[SqlOrdersUnitOfWork]``; a test's takes a fake."""


class IdempotencyKeyReused(Conflict):
    def __init__(self) -> None:
        super().__init__("This Idempotency-Key was used with a different request body.")


async def place_order(uow: U, connect: Connect[U], command: PlaceOrder) -> Order:
    """Place an order and settle it; a replayed Idempotency-Key returns the first order.

    A replay is answered even when admission refuses new placements (``admission``): it
    creates nothing. A new placement is admitted before anything is asked or written.

    The quote (prices, accepted methods) may ask other services over the network, so it is
    asked before the order's writing transaction opens: no write lock is held while it
    waits. A replay is looked up first, in a read; the claim inside the transaction still
    settles two placements racing with one key.
    """
    order_id = str(uuid.uuid4())
    about_order(order_id)
    if command.idempotency_key is not None:
        earlier = await _earlier_order(uow, command)
        if earlier is not None:
            return earlier
    collaborators = connect(uow)
    admission = collaborators.admission
    admission.enter()
    try:
        return await _place(uow, collaborators, order_id, command)
    finally:
        admission.leave()


async def _place(uow: U, collaborators: Collaborators, order_id: str, command: PlaceOrder) -> Order:
    order = await _new_order(collaborators, order_id, command)
    async with uow:
        if command.idempotency_key is not None:
            earlier = await _replay(uow, command, order_id)
            if earlier is not None:
                return earlier
        await announce_placement(uow, order, command.payment_method)
        await collaborators.settlement.settle(uow, order, command.payment_method)
        await uow.orders.add(order)
        await announce(uow, order)
        if order.status is OrderStatus.PENDING:
            uow.after_commit(collaborators.admission.saga_started)
        await uow.commit()
        log.info(
            "order placed",
            order_id=order.order_id,
            status=order.status.value,
            total_cents=order.total_cents,
        )
        return order


async def _earlier_order(uow: OrdersUnitOfWork, command: PlaceOrder) -> Order | None:
    """The order an earlier request with this key placed, if any (a read, no lock)."""
    assert command.idempotency_key is not None
    async with uow.read_only():
        claim = await uow.idempotency_keys.holder(command.customer_id, command.idempotency_key)
        return await _claimed_order(uow, command, claim)


async def _replay(uow: OrdersUnitOfWork, command: PlaceOrder, order_id: str) -> Order | None:
    """Claim the key for ``order_id``; the earlier order when another request holds it."""
    assert command.idempotency_key is not None
    claim = await uow.idempotency_keys.claim(
        command.customer_id, command.idempotency_key, command.fingerprint(), order_id
    )
    if claim.order_id == order_id:
        return None
    return await _claimed_order(uow, command, claim)


async def _claimed_order(
    uow: OrdersUnitOfWork, command: PlaceOrder, claim: ClaimedKey | None
) -> Order | None:
    if claim is None:
        return None
    if claim.fingerprint != command.fingerprint():
        raise IdempotencyKeyReused
    return await uow.orders.get(claim.order_id)


async def _new_order(collaborators: Collaborators, order_id: str, command: PlaceOrder) -> Order:
    if not await collaborators.methods.accepts(command.payment_method):
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


async def cancel_order(uow: U, connect: Connect[U], order_id: str, principal: Principal) -> Order:
    """Cancel an approved order: stock goes back, the payment is refunded in full."""
    async with uow:
        order = await _visible_order(uow, order_id, principal, lock=True)
        await connect(uow).settlement.cancel(uow, order)
        await uow.orders.save(order)
        await announce(uow, order)
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
