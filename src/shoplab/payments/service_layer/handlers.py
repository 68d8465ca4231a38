"""Command handlers: each applies one use case and answers with an event.

They run inside the chassis's idempotent-consumer wrapper: the payment, the
inbox record and the answer in the outbox commit together, so a command
delivered twice charges, refunds or voids once and is answered once.
"""

from collections.abc import Awaitable, Callable

import structlog

from shoplab.contracts.commands import ChargePayment, RefundPayment, VoidPayment
from shoplab.contracts.envelope import Envelope, Message
from shoplab.contracts.events import PaymentCharged, PaymentFailed, PaymentRefunded, PaymentVoided
from shoplab.payments.domain.charge_request import ChargeTerms
from shoplab.payments.domain.model import ChargeOutcome
from shoplab.payments.service_layer import services
from shoplab.payments.service_layer.ports import CardProcessor
from shoplab.payments.service_layer.unit_of_work import PaymentsUnitOfWork
from shoplab.platform.telemetry.logs import in_words

log = structlog.get_logger(__name__)

ChargeHandler = Callable[[ChargePayment, Envelope, PaymentsUnitOfWork], Awaitable[None]]


def charge_payment(processor: CardProcessor) -> ChargeHandler:
    """The handler of ``ChargePayment``, bound to a card processor."""

    async def handle(command: ChargePayment, envelope: Envelope, uow: PaymentsUnitOfWork) -> None:
        terms = ChargeTerms(command.amount_cents, command.currency, command.method)
        await charge_and_answer(uow, processor, envelope, command.order_id, terms)

    return handle


async def charge_and_answer(
    uow: PaymentsUnitOfWork,
    processor: CardProcessor,
    cause: Envelope,
    order_id: str,
    terms: ChargeTerms,
) -> None:
    """Charge the order once and say how it went: asked by a command or by events."""
    outcome = await services.charge(
        uow.joined(), processor, order_id, terms.amount_cents, terms.currency, terms.method
    )
    answer: Message = (
        PaymentCharged(order_id=order_id, amount_cents=terms.amount_cents)
        if outcome is ChargeOutcome.CHARGED
        else PaymentFailed(order_id=order_id, outcome=outcome.value)
    )
    await answer_with(uow, cause, answer)


async def refund_payment(
    command: RefundPayment, envelope: Envelope, uow: PaymentsUnitOfWork
) -> None:
    refunded = await services.refund(uow.joined(), command.order_id)
    await answer_with(
        uow, envelope, PaymentRefunded(order_id=command.order_id, refunded_cents=refunded)
    )


async def void_payment(command: VoidPayment, envelope: Envelope, uow: PaymentsUnitOfWork) -> None:
    refunded = await services.void(uow.joined(), command.order_id)
    await answer_with(
        uow, envelope, PaymentVoided(order_id=command.order_id, refunded_cents=refunded)
    )


async def answer_with(uow: PaymentsUnitOfWork, cause: Envelope, answer: Message) -> None:
    """Publish ``answer`` in the handler's transaction, in the same order flow as ``cause``."""
    await uow.publish(answer, correlation_id=cause.correlation_id, causation_id=cause.message_id)
    log.info(in_words(type(answer).__name__), **answer.model_dump(mode="json"))
