"""Payments: one per order, charged once, refunded at most once and in full."""

from dataclasses import dataclass
from enum import StrEnum

from shoplab.platform.errors import InvalidInput, NotFound


class UnsupportedPaymentMethod(InvalidInput):
    def __init__(self, method: str) -> None:
        super().__init__(f"Payment method {method!r} is not accepted.")


class NoPayment(NotFound):
    def __init__(self, order_id: str) -> None:
        super().__init__(f"No payment exists for order {order_id!r}.")


class ChargeOutcome(StrEnum):
    """What the card processor answered."""

    CHARGED = "CHARGED"
    DECLINED = "DECLINED"
    INSUFFICIENT_FUNDS = "INSUFFICIENT_FUNDS"
    VOIDED = "VOIDED"
    """Never sent to the processor: the order's payment had been voided first."""


class PaymentStatus(StrEnum):
    CHARGED = "CHARGED"
    DECLINED = "DECLINED"
    REFUNDED = "REFUNDED"
    VOIDED = "VOIDED"


@dataclass
class Payment:
    order_id: str
    amount_cents: int
    currency: str
    method: str
    outcome: ChargeOutcome
    status: PaymentStatus
    charged_cents: int = 0
    refunded_cents: int = 0

    @classmethod
    def record(
        cls, order_id: str, amount_cents: int, currency: str, method: str, outcome: ChargeOutcome
    ) -> "Payment":
        """The result of one charge attempt: money moves only when it was charged."""
        charged = outcome is ChargeOutcome.CHARGED
        return cls(
            order_id=order_id,
            amount_cents=amount_cents,
            currency=currency,
            method=method,
            outcome=outcome,
            status=PaymentStatus.CHARGED if charged else PaymentStatus.DECLINED,
            charged_cents=amount_cents if charged else 0,
        )

    @classmethod
    def voided(cls, order_id: str) -> "Payment":
        """A void that arrived before its charge: no money moves, now or later."""
        return cls(
            order_id=order_id,
            amount_cents=0,
            currency="",
            method="",
            outcome=ChargeOutcome.VOIDED,
            status=PaymentStatus.VOIDED,
        )

    def refund(self) -> None:
        """Give back everything charged; refunding twice changes nothing."""
        if self.status is PaymentStatus.CHARGED:
            self.refunded_cents = self.charged_cents
            self.status = PaymentStatus.REFUNDED

    @property
    def net_cents(self) -> int:
        return self.charged_cents - self.refunded_cents
