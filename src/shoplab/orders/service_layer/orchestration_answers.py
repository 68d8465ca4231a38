"""The answers of inventory and payments, turned into saga replies.

Each is consumed by the chassis's idempotent consumer, so a duplicate answer
is recorded once, and a late one (the saga moved on) changes nothing.
"""

from collections.abc import Awaitable, Callable
from typing import Any

from shoplab.contracts import events
from shoplab.contracts.envelope import Envelope, Message
from shoplab.orders.domain.orchestration import Reply, Timeouts
from shoplab.orders.service_layer.admission import Admission, free_on_commit
from shoplab.orders.service_layer.orchestration import advance, on_reply
from shoplab.orders.service_layer.unit_of_work import OrdersUnitOfWork

PAYMENT_FAILURE_REPLIES = {
    "DECLINED": Reply.PAYMENT_DECLINED,
    "INSUFFICIENT_FUNDS": Reply.PAYMENT_INSUFFICIENT_FUNDS,
    "VOIDED": Reply.PAYMENT_REFUSED,
}

ANSWERS: dict[type[Message], Callable[[Any], Reply]] = {
    events.StockReserved: lambda _: Reply.STOCK_RESERVED,
    events.StockReservationFailed: lambda _: Reply.STOCK_SHORT,
    events.StockCommitted: lambda _: Reply.STOCK_COMMITTED,
    events.StockReleased: lambda _: Reply.STOCK_RELEASED,
    events.StockReturned: lambda _: Reply.STOCK_RETURNED,
    events.PaymentCharged: lambda _: Reply.PAYMENT_CHARGED,
    events.PaymentFailed: lambda answer: PAYMENT_FAILURE_REPLIES[answer.outcome],
    events.PaymentRefunded: lambda _: Reply.PAYMENT_REFUNDED,
    events.PaymentVoided: lambda _: Reply.PAYMENT_VOIDED,
}
"""Every answer the saga listens to, and the reply it means."""

AnswerHandler = Callable[[Any, Envelope, OrdersUnitOfWork], Awaitable[None]]


def answer_handler(
    reply_of: Callable[[Any], Reply], timeouts: Timeouts, admission: Admission | None = None
) -> AnswerHandler:
    """The handler of one answer; an answer that settles a placement frees its place."""

    async def handle(answer: Any, envelope: Envelope, uow: OrdersUnitOfWork) -> None:
        transition = on_reply(reply_of(answer), timeouts)
        decision = await advance(uow, answer.order_id, transition, envelope)
        free_on_commit(uow, decision, admission)

    return handle
