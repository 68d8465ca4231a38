"""Running the orchestrated order saga: persist it, send its commands, apply its decisions.

Every transition happens in one transaction of the orders database: the saga
row, the commands in the outbox, the order's new status and its integration
event, and (for an answer) the inbox record of that answer. A crash at any
point leaves either the state before or the state after; the outbox relay and
the broker's redelivery carry on from there after the restart.
"""

from collections.abc import Callable
from datetime import datetime

import structlog

from shoplab.contracts.commands import (
    ChargePayment,
    CommitStock,
    RefundPayment,
    ReleaseStock,
    ReserveStock,
    ReturnStock,
    VoidPayment,
)
from shoplab.contracts.envelope import Envelope, Message
from shoplab.orders.adapters.metrics import SagaStyle, saga_metrics
from shoplab.orders.domain.model import NotCancellable, Order
from shoplab.orders.domain.orchestration import OrchestratedSaga, OrderTerms, Reply, Timeouts
from shoplab.orders.domain.saga import NOTHING, Decision, Step
from shoplab.orders.service_layer.admission import Admission, free_on_commit
from shoplab.orders.service_layer.announce import announce
from shoplab.orders.service_layer.saga import NoSaga, locked_order, settle_order
from shoplab.orders.service_layer.saga_outcomes import began_at, count_outcome
from shoplab.orders.service_layer.unit_of_work import OrdersUnitOfWork
from shoplab.platform.time import now

log = structlog.get_logger(__name__)

Transition = Callable[[OrchestratedSaga, datetime], Decision]

NEEDS_TERMS = {Step.RESERVE_STOCK, Step.CHARGE_PAYMENT}
"""The steps whose commands carry the order's terms; the others carry only its id."""


class SettleByOrchestration:
    """The ``Settlement`` of the microservices mode: each order is settled by a saga."""

    def __init__(self, timeouts: Timeouts) -> None:
        self.timeouts = timeouts
        saga_metrics().initialise(SagaStyle.ORCHESTRATION)

    async def settle(self, uow: OrdersUnitOfWork, order: Order, method: str) -> None:
        terms = OrderTerms.of(order)
        saga, decision = OrchestratedSaga.place(order.order_id, method, self.timeouts, now(), terms)
        await uow.sagas.add(saga)
        await _send(uow, saga, decision.send, cause=None)

    async def cancel(self, uow: OrdersUnitOfWork, order: Order) -> None:
        saga = await uow.sagas.get(order.order_id, lock=True)
        if saga is None:
            raise NotCancellable(order.status)
        decision = saga.cancel(order.status, self.timeouts, now())
        await _send(uow, saga, decision.send, cause=None)
        await uow.sagas.save(saga)


async def advance(
    uow: OrdersUnitOfWork, order_id: str, transition: Transition, cause: Envelope | None
) -> Decision:
    """Apply one transition to the order's saga, inside the caller's transaction.

    The order's row is locked before its saga, in the same order as a cancellation locks
    them, so the two cannot deadlock; but only the row, with one cheap statement. The order
    and its lines are read when the decision settles the order, or when a command needs
    terms that a saga stored before sagas kept them lacks; any other step reads and writes
    the saga row alone.
    """
    locked = await uow.orders.lock(order_id) is not None
    saga = await uow.sagas.get(order_id, lock=True)
    if not locked or saga is None:
        log.warning("answer for an order without a saga", order_id=order_id)
        return NOTHING
    decision = transition(saga, now())
    order: Order | None = None
    if saga.terms is None and NEEDS_TERMS.intersection(decision.send):
        order = await locked_order(uow, order_id)
        saga.terms = OrderTerms.of(order)  # saved with the saga: read from the order once
    await _send(uow, saga, decision.send, cause)
    if decision.settle is not None:
        await _settle(uow, order or await locked_order(uow, order_id), saga, decision, cause)
    await uow.sagas.save(saga)
    return decision


async def _settle(
    uow: OrdersUnitOfWork,
    order: Order,
    saga: OrchestratedSaga,
    decision: Decision,
    cause: Envelope | None,
) -> None:
    """Give the order the status the saga decided, and announce it."""
    assert decision.settle is not None
    settle_order(order, decision.settle, decision.reason)
    await uow.orders.save(order)
    await announce(uow, order, causation_id=cause.message_id if cause else None)
    began = began_at(order, saga.history, cancellation=Step.REFUND_PAYMENT)
    count_outcome(uow, SagaStyle.ORCHESTRATION, order, began)
    log.info("saga finished", order_id=order.order_id, state=saga.state, reason=saga.reason)


def on_reply(reply: Reply, timeouts: Timeouts) -> Transition:
    def transition(saga: OrchestratedSaga, at: datetime) -> Decision:
        return saga.on_reply(reply, timeouts, at)

    return transition


def on_timeout(timeouts: Timeouts) -> Transition:
    def transition(saga: OrchestratedSaga, at: datetime) -> Decision:
        return saga.on_timeout(timeouts, at)

    return transition


async def expire_overdue(
    new_uow: Callable[[], OrdersUnitOfWork],
    timeouts: Timeouts,
    limit: int = 100,
    admission: Admission | None = None,
) -> int:
    """Send again, or compensate, the ``limit`` steps late the longest; returns how many.

    ``limit`` is the resend budget of one pass: however many sagas are late, at most that
    many commands are sent again, so a backlog is not multiplied by its own resends; the
    others, still late, come first at the next pass.
    """
    async with new_uow().read_only() as uow:
        overdue = await uow.sagas.overdue(now(), limit)
    for order_id in overdue:
        async with new_uow() as uow:
            decision = await advance(uow, order_id, on_timeout(timeouts), cause=None)
            free_on_commit(uow, decision, admission)
            await uow.commit()
    return len(overdue)


async def saga_of(uow: OrdersUnitOfWork, order_id: str) -> OrchestratedSaga:
    async with uow.read_only():
        saga = await uow.sagas.get(order_id)
    if saga is None:
        raise NoSaga(order_id)
    return saga


async def _send(
    uow: OrdersUnitOfWork,
    saga: OrchestratedSaga,
    steps: tuple[Step, ...],
    cause: Envelope | None,
) -> None:
    for step in steps:
        await uow.publish(
            _command(step, saga),
            correlation_id=saga.order_id,
            causation_id=cause.message_id if cause else None,
        )


def _command(step: Step, saga: OrchestratedSaga) -> Message:
    order_id, terms = saga.order_id, saga.terms
    match step:
        case Step.RESERVE_STOCK if terms is not None:
            return ReserveStock(order_id=order_id, lines=terms.quantities)
        case Step.CHARGE_PAYMENT if terms is not None:
            return ChargePayment(
                order_id=order_id,
                amount_cents=terms.amount_cents,
                currency=terms.currency,
                method=saga.payment_method,
            )
        case Step.COMMIT_STOCK:
            return CommitStock(order_id=order_id)
        case Step.RELEASE_STOCK:
            return ReleaseStock(order_id=order_id)
        case Step.VOID_PAYMENT:
            return VoidPayment(order_id=order_id)
        case Step.REFUND_PAYMENT:
            return RefundPayment(order_id=order_id)
        case Step.RETURN_STOCK:
            return ReturnStock(order_id=order_id)
    raise ValueError(f"no terms for {step} of order {order_id!r}")
