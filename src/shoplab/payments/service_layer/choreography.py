"""Payments' part in the choreographed saga (``SHOPLAB_SAGA=choreography``).

- ``OrderPlaced`` and ``StockReserved``: charge once both have arrived, in either order
  (``PaymentCharged`` or ``PaymentFailed``); see ``domain/charge_request.py``;
- ``OrderCancellationRequested``: refund in full (``PaymentRefunded``).

Each reaction runs in the idempotent consumer: the charge record, the charge, the
inbox record and the event in the outbox commit together. The charge request row is
locked, so two events of one order handled at once cannot both decide to charge.
"""

from collections.abc import Awaitable, Callable
from typing import TypeVar

from shoplab.contracts.envelope import Envelope
from shoplab.contracts.events import (
    OrderCancellationRequested,
    OrderPlaced,
    PaymentRefunded,
    StockReserved,
)
from shoplab.payments.domain.charge_request import ChargeRequest, ChargeTerms
from shoplab.payments.service_layer import services
from shoplab.payments.service_layer.handlers import answer_with, charge_and_answer
from shoplab.payments.service_layer.ports import CardProcessor
from shoplab.payments.service_layer.unit_of_work import PaymentsUnitOfWork

E = TypeVar("E")
EventHandler = Callable[[E, Envelope, PaymentsUnitOfWork], Awaitable[None]]


def on_order_placed(processor: CardProcessor) -> EventHandler[OrderPlaced]:
    async def handle(event: OrderPlaced, envelope: Envelope, uow: PaymentsUnitOfWork) -> None:
        request = await _request(uow, event.order_id)
        terms = ChargeTerms(event.total_cents, event.currency, event.payment_method)
        due = request.order_placed(terms)
        await _save_and_charge(uow, processor, envelope, request, due)

    return handle


def on_stock_reserved(processor: CardProcessor) -> EventHandler[StockReserved]:
    async def handle(event: StockReserved, envelope: Envelope, uow: PaymentsUnitOfWork) -> None:
        request = await _request(uow, event.order_id)
        due = request.reserved()
        await _save_and_charge(uow, processor, envelope, request, due)

    return handle


async def on_cancellation_requested(
    event: OrderCancellationRequested, envelope: Envelope, uow: PaymentsUnitOfWork
) -> None:
    refunded = await services.refund(uow.joined(), event.order_id)
    answer = PaymentRefunded(order_id=event.order_id, refunded_cents=refunded)
    await answer_with(uow, envelope, answer)


async def _request(uow: PaymentsUnitOfWork, order_id: str) -> ChargeRequest:
    found = await uow.charge_requests.get(order_id, lock=True)
    if found is not None:
        return found
    request = ChargeRequest(order_id)
    await uow.charge_requests.add(request)
    return request


async def _save_and_charge(
    uow: PaymentsUnitOfWork,
    processor: CardProcessor,
    cause: Envelope,
    request: ChargeRequest,
    due: ChargeTerms | None,
) -> None:
    await uow.charge_requests.save(request)
    if due is not None:
        await charge_and_answer(uow, processor, cause, request.order_id, due)
