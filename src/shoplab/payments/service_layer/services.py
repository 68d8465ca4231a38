"""Payments use cases: charge an order once, refund it in full, look it up."""

from shoplab.payments.domain.model import ChargeOutcome, NoPayment, Payment
from shoplab.payments.service_layer.ports import CardProcessor
from shoplab.payments.service_layer.unit_of_work import PaymentsUnitOfWork


async def charge(
    uow: PaymentsUnitOfWork,
    processor: CardProcessor,
    order_id: str,
    amount_cents: int,
    currency: str,
    method: str,
) -> ChargeOutcome:
    """Charge an order; asking again answers the first outcome and charges nothing more."""
    async with uow:
        existing = await uow.payments.get(order_id, lock=True)
        if existing is not None:
            return existing.outcome
        outcome = await processor.charge(method, amount_cents, currency)
        await uow.payments.add(Payment.record(order_id, amount_cents, currency, method, outcome))
        await uow.commit()
        return outcome


async def refund(uow: PaymentsUnitOfWork, order_id: str) -> int:
    """Refund an order's payment in full; a second refund changes nothing.

    Returns the cents refunded in all.
    """
    return await _refund(uow, order_id, void_when_missing=False)


async def void(uow: PaymentsUnitOfWork, order_id: str) -> int:
    """Make the order's payment net zero for good; returns the cents given back.

    For a charge whose outcome the caller never learned: a charge that happened
    is refunded, and one that has not happened yet never will.
    """
    return await _refund(uow, order_id, void_when_missing=True)


async def _refund(uow: PaymentsUnitOfWork, order_id: str, *, void_when_missing: bool) -> int:
    async with uow:
        payment = await uow.payments.get(order_id, lock=True)
        if payment is None:
            if void_when_missing:
                await uow.payments.add(Payment.voided(order_id))
                await uow.commit()
            return 0
        payment.refund()
        await uow.payments.save(payment)
        await uow.commit()
        return payment.refunded_cents


async def payment_for(uow: PaymentsUnitOfWork, order_id: str) -> Payment:
    async with uow.read_only():
        payment = await uow.payments.get(order_id)
    if payment is None:
        raise NoPayment(order_id)
    return payment
