"""Payments' use cases and handlers on fakes: an order is charged once, refunded at most once.

The card processor is a fake that counts its charges, so "charged once" is seen where
the money moves, not only in the payment's record.
"""

from datetime import UTC, datetime

import pytest

from shoplab.contracts import commands, events
from shoplab.payments.domain.model import ChargeOutcome, NoPayment, PaymentStatus
from shoplab.payments.service_layer import choreography, handlers, services

from ..fakes import deliver
from .fakes import FakeCardProcessor, FakePaymentsUnitOfWork

VISA, DECLINED = "pm_card_visa", "pm_card_chargeDeclined"


def processor() -> FakeCardProcessor:
    return FakeCardProcessor({VISA: ChargeOutcome.CHARGED, DECLINED: ChargeOutcome.DECLINED})


async def charged(uow: FakePaymentsUnitOfWork, card: FakeCardProcessor) -> ChargeOutcome:
    return await services.charge(uow, card, "o1", 9_000, "EUR", VISA)


async def test_an_approved_charge_moves_the_money_and_records_it() -> None:
    uow, card = FakePaymentsUnitOfWork(), processor()
    assert await charged(uow, card) is ChargeOutcome.CHARGED
    assert uow.committed
    payment = await services.payment_for(uow, "o1")
    assert (payment.status, payment.net_cents) == (PaymentStatus.CHARGED, 9_000)
    assert card.charges == [(VISA, 9_000, "EUR")]


async def test_a_declined_charge_is_recorded_and_moves_no_money() -> None:
    uow, card = FakePaymentsUnitOfWork(), processor()
    outcome = await services.charge(uow, card, "o1", 9_000, "EUR", DECLINED)
    assert outcome is ChargeOutcome.DECLINED
    payment = await services.payment_for(uow, "o1")
    assert (payment.status, payment.net_cents) == (PaymentStatus.DECLINED, 0)


async def test_a_repeated_charge_answers_the_first_outcome_and_charges_once() -> None:
    uow, card = FakePaymentsUnitOfWork(), processor()
    await charged(uow, card)
    assert await charged(uow, card) is ChargeOutcome.CHARGED
    assert len(card.charges) == 1


async def test_a_refund_gives_everything_back_once() -> None:
    uow, card = FakePaymentsUnitOfWork(), processor()
    await charged(uow, card)
    assert await services.refund(uow, "o1") == 9_000
    assert await services.refund(uow, "o1") == 9_000
    payment = await services.payment_for(uow, "o1")
    assert (payment.status, payment.net_cents) == (PaymentStatus.REFUNDED, 0)


async def test_a_refund_of_an_order_never_charged_records_nothing() -> None:
    uow = FakePaymentsUnitOfWork()
    assert await services.refund(uow, "o1") == 0
    with pytest.raises(NoPayment):
        await services.payment_for(uow, "o1")


async def test_a_void_after_the_charge_refunds_it() -> None:
    uow, card = FakePaymentsUnitOfWork(), processor()
    await charged(uow, card)
    assert await services.void(uow, "o1") == 9_000
    assert (await services.payment_for(uow, "o1")).net_cents == 0


async def test_a_void_before_the_charge_means_the_charge_never_happens() -> None:
    uow, card = FakePaymentsUnitOfWork(), processor()
    assert await services.void(uow, "o1") == 0
    assert await charged(uow, card) is ChargeOutcome.VOIDED
    assert card.charges == []
    assert (await services.payment_for(uow, "o1")).status is PaymentStatus.VOIDED


async def test_the_charge_command_is_answered_in_its_order_flow() -> None:
    uow, card = FakePaymentsUnitOfWork(), processor()
    command = commands.ChargePayment(order_id="o1", amount_cents=9_000, currency="EUR", method=VISA)
    envelope = await deliver(uow, handlers.charge_payment(card), command)
    [answer] = uow.published
    assert (answer.type, answer.correlation_id, answer.causation_id) == (
        "PaymentCharged",
        "o1",
        envelope.message_id,
    )


async def test_a_declined_charge_command_is_answered_with_a_failure() -> None:
    uow, card = FakePaymentsUnitOfWork(), processor()
    command = commands.ChargePayment(
        order_id="o1", amount_cents=9_000, currency="EUR", method=DECLINED
    )
    await deliver(uow, handlers.charge_payment(card), command)
    assert [failure.outcome for failure in uow.messages(events.PaymentFailed)] == ["DECLINED"]


async def test_a_charge_command_delivered_twice_charges_and_answers_once() -> None:
    uow, card = FakePaymentsUnitOfWork(), processor()
    command = commands.ChargePayment(order_id="o1", amount_cents=9_000, currency="EUR", method=VISA)
    first = await deliver(uow, handlers.charge_payment(card), command)
    await deliver(uow, handlers.charge_payment(card), command, again=first)
    assert len(card.charges) == 1
    assert uow.published_types() == ["PaymentCharged"]


async def test_the_void_command_is_answered_with_what_was_given_back() -> None:
    uow, card = FakePaymentsUnitOfWork(), processor()
    await charged(uow, card)
    await deliver(uow, handlers.void_payment, commands.VoidPayment(order_id="o1"))
    assert [voided.refunded_cents for voided in uow.messages(events.PaymentVoided)] == [9_000]


@pytest.mark.parametrize("reservation_first", [True, False])
async def test_in_a_choreography_the_charge_waits_for_both_of_its_events(
    reservation_first: bool,
) -> None:
    uow, card = FakePaymentsUnitOfWork(), processor()
    placed = events.OrderPlaced(
        order_id="o1",
        customer_id="ada",
        lines=[events.PlacedLine(sku="KB-001", quantity=2, unit_price_cents=4_500)],
        total_cents=9_000,
        currency="EUR",
        payment_method=VISA,
        placed_at=datetime(2026, 1, 1, tzinfo=UTC),
    )

    async def reservation() -> None:
        reserved = events.StockReserved(order_id="o1")
        await deliver(uow, choreography.on_stock_reserved(card), reserved)

    async def placement() -> None:
        await deliver(uow, choreography.on_order_placed(card), placed)

    first, second = (reservation, placement) if reservation_first else (placement, reservation)
    await first()
    assert card.charges == []
    await second()
    assert card.charges == [(VISA, 9_000, "EUR")]
    assert uow.published_types() == ["PaymentCharged"]
