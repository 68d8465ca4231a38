"""Events published by the payments context, in answer to its commands."""

from typing import ClassVar

from shoplab.contracts.envelope import Message


class PaymentEvent(Message):
    context: ClassVar[str] = "payments"

    order_id: str


class PaymentCharged(PaymentEvent):
    amount_cents: int


class PaymentFailed(PaymentEvent):
    """No money moved; ``outcome`` is ``DECLINED``, ``INSUFFICIENT_FUNDS`` or ``VOIDED``."""

    outcome: str


class PaymentRefunded(PaymentEvent):
    refunded_cents: int


class PaymentVoided(PaymentEvent):
    """The order's payment nets zero now and for good; ``refunded_cents`` were given back."""

    refunded_cents: int
