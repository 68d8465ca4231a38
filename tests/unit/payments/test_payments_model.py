"""Payments: money moves only on a charge, and a refund returns it once."""

import pytest

from shoplab.payments.adapters.card_processor import TEST_CARDS, TestCardProcessor
from shoplab.payments.domain.model import ChargeOutcome, Payment, PaymentStatus


def test_a_charged_payment_holds_the_amount() -> None:
    payment = Payment.record("o1", 1500, "USD", "pm_card_visa", ChargeOutcome.CHARGED)
    assert (payment.status, payment.charged_cents, payment.net_cents) == (
        PaymentStatus.CHARGED,
        1500,
        1500,
    )


@pytest.mark.parametrize("outcome", [ChargeOutcome.DECLINED, ChargeOutcome.INSUFFICIENT_FUNDS])
def test_a_declined_payment_moves_no_money(outcome: ChargeOutcome) -> None:
    payment = Payment.record("o1", 1500, "USD", "pm_card_chargeDeclined", outcome)
    assert payment.status is PaymentStatus.DECLINED
    assert (payment.charged_cents, payment.refunded_cents) == (0, 0)
    payment.refund()
    assert payment.status is PaymentStatus.DECLINED
    assert payment.net_cents == 0


def test_a_refund_returns_everything_once() -> None:
    payment = Payment.record("o1", 1500, "USD", "pm_card_visa", ChargeOutcome.CHARGED)
    payment.refund()
    payment.refund()
    assert (payment.status, payment.refunded_cents, payment.net_cents) == (
        PaymentStatus.REFUNDED,
        1500,
        0,
    )


async def test_the_test_processor_follows_the_published_test_tokens() -> None:
    processor = TestCardProcessor()
    assert await processor.charge("pm_card_visa", 100, "USD") is ChargeOutcome.CHARGED
    assert await processor.charge("pm_card_mastercard", 100, "USD") is ChargeOutcome.CHARGED
    assert await processor.charge("pm_card_chargeDeclined", 100, "USD") is ChargeOutcome.DECLINED
    assert (
        await processor.charge("pm_card_chargeDeclinedInsufficientFunds", 100, "USD")
        is ChargeOutcome.INSUFFICIENT_FUNDS
    )
    assert not processor.accepts("pm_card_amex")
    assert all(processor.accepts(method) for method in TEST_CARDS)
