"""Settling orders by choreography: orders announces, listens, and records what it saw.

Placement publishes ``OrderPlaced`` (every mode does) and stores an empty view of the
saga; inventory and payments take it from there. Each participant event that reaches
orders is one transaction of the orders database: the fact in the view, the order's
final status and its integration event when the facts decide it, and the inbox record.

There is no timer: a participant that is down leaves the order ``PENDING`` until it is
back, since its messages wait in the broker's durable streams.
"""

from collections.abc import Awaitable, Callable
from typing import Any

import structlog

from shoplab.contracts import events
from shoplab.contracts.envelope import Envelope, Message
from shoplab.orders.adapters.metrics import SagaStyle, saga_metrics
from shoplab.orders.domain.choreography import STEPS, ChoreographedSaga, Fact
from shoplab.orders.domain.model import NotCancellable, Order
from shoplab.orders.domain.saga import NOTHING, Decision
from shoplab.orders.service_layer.admission import Admission, free_on_commit
from shoplab.orders.service_layer.announce import announce
from shoplab.orders.service_layer.saga import NoSaga, locked_order, settle_order
from shoplab.orders.service_layer.saga_outcomes import began_at, count_outcome
from shoplab.orders.service_layer.unit_of_work import OrdersUnitOfWork
from shoplab.platform.time import now

log = structlog.get_logger(__name__)

PAYMENT_FAILURE_FACTS = {
    "DECLINED": Fact.PAYMENT_DECLINED,
    "INSUFFICIENT_FUNDS": Fact.PAYMENT_INSUFFICIENT_FUNDS,
    "VOIDED": Fact.PAYMENT_REFUSED,
}

FACTS: dict[type[Message], Callable[[Any], Fact]] = {
    events.StockReserved: lambda _: Fact.STOCK_RESERVED,
    events.StockReservationFailed: lambda _: Fact.STOCK_SHORT,
    events.PaymentCharged: lambda _: Fact.PAYMENT_CHARGED,
    events.PaymentFailed: lambda event: PAYMENT_FAILURE_FACTS[event.outcome],
    events.StockCommitted: lambda _: Fact.STOCK_COMMITTED,
    events.StockReleased: lambda _: Fact.STOCK_RELEASED,
    events.PaymentRefunded: lambda _: Fact.PAYMENT_REFUNDED,
    events.StockReturned: lambda _: Fact.STOCK_RETURNED,
}
"""Every participant event orders listens to, and the fact it records."""

FactHandler = Callable[[Any, Envelope, OrdersUnitOfWork], Awaitable[None]]

CANCELLATION_REQUESTED, _ = STEPS[Fact.CANCEL_REQUESTED]
"""The step a cancellation's saga begins with, in the saga view."""


class SettleByChoreography:
    """The ``Settlement`` of ``SHOPLAB_SAGA=choreography``: no commands, only events."""

    def __init__(self) -> None:
        saga_metrics().initialise(SagaStyle.CHOREOGRAPHY)

    async def settle(self, uow: OrdersUnitOfWork, order: Order, method: str) -> None:
        await uow.choreographies.add(ChoreographedSaga.place(order.order_id, order.created_at))

    async def cancel(self, uow: OrdersUnitOfWork, order: Order) -> None:
        """Ask for the refund; the order stays ``APPROVED`` until the stock is back."""
        saga = await uow.choreographies.get(order.order_id, lock=True)
        if saga is None:
            raise NotCancellable(order.status)
        at = now()
        if saga.request_cancel(order.status, at):
            request = events.OrderCancellationRequested(
                order_id=order.order_id, customer_id=order.customer_id, requested_at=at
            )
            await uow.publish(request, correlation_id=order.order_id)
            await uow.choreographies.save(saga)


def fact_handler(fact_of: Callable[[Any], Fact], admission: Admission | None = None) -> FactHandler:
    """The handler of one participant event; one that settles a placement frees its place."""

    async def handle(event: Any, envelope: Envelope, uow: OrdersUnitOfWork) -> None:
        decision = await observe(uow, event.order_id, fact_of(event), envelope)
        free_on_commit(uow, decision, admission)

    return handle


async def observe(uow: OrdersUnitOfWork, order_id: str, fact: Fact, cause: Envelope) -> Decision:
    """Record one fact, inside the caller's transaction; settle the order if it decides it.

    The order's row is locked before the view, as a cancellation locks them; the order
    and its lines are read only when the fact settles it.
    """
    status = await uow.orders.lock(order_id)
    saga = await uow.choreographies.get(order_id, lock=True)
    if status is None or saga is None:
        log.warning("event for an order without a choreographed saga", order_id=order_id)
        return NOTHING
    decision = saga.observe(fact, cause.occurred_at, status)
    if decision.settle is not None:
        order = await locked_order(uow, order_id)
        settle_order(order, decision.settle, decision.reason)
        await uow.orders.save(order)
        await announce(uow, order, causation_id=cause.message_id)
        began = began_at(order, saga.history, cancellation=CANCELLATION_REQUESTED)
        count_outcome(uow, SagaStyle.CHOREOGRAPHY, order, began)
        log.info("choreography settled", order_id=order_id, state=saga.state, fact=fact)
    await uow.choreographies.save(saga)
    return decision


async def choreography_of(uow: OrdersUnitOfWork, order_id: str) -> ChoreographedSaga:
    async with uow.read_only():
        saga = await uow.choreographies.get(order_id)
    if saga is None:
        raise NoSaga(order_id)
    return saga
