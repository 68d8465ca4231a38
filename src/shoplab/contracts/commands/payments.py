"""Commands the payments context accepts; each is idempotent per order."""

from typing import ClassVar

from shoplab.contracts.envelope import Message


class PaymentsCommand(Message):
    context: ClassVar[str] = "payments"
    kind: ClassVar[str] = "commands"

    order_id: str


class ChargePayment(PaymentsCommand):
    """Charge the order once. Answered by ``PaymentCharged`` or ``PaymentFailed``."""

    amount_cents: int
    currency: str
    method: str


class RefundPayment(PaymentsCommand):
    """Refund the order's charge in full. Answered by ``PaymentRefunded``."""


class VoidPayment(PaymentsCommand):
    """Undo a charge whose outcome the sender never learned.

    Refunds it if it happened; otherwise records that it must never happen, so a
    ``ChargePayment`` still in flight is refused when it arrives. Answered by
    ``PaymentVoided``.
    """
