"""Payments in SQL."""

from datetime import UTC, datetime

from shoplab.payments.domain.model import ChargeOutcome, Payment, PaymentStatus
from shoplab.platform.persistence.sql import Sql

PAYMENT = (
    "SELECT order_id, amount_cents, currency, method, outcome, status, charged_cents,"
    " refunded_cents FROM payments_payments WHERE order_id = :order_id"
)
ADD_PAYMENT = (
    "INSERT INTO payments_payments (order_id, amount_cents, currency, method, outcome, status,"
    " charged_cents, refunded_cents, updated_at) VALUES (:order_id, :amount_cents, :currency,"
    " :method, :outcome, :status, :charged_cents, :refunded_cents, :updated_at)"
)
SAVE_PAYMENT = (
    "UPDATE payments_payments SET amount_cents = :amount_cents, currency = :currency,"
    " method = :method, outcome = :outcome, status = :status, charged_cents = :charged_cents,"
    " refunded_cents = :refunded_cents, updated_at = :updated_at WHERE order_id = :order_id"
)


class SqlPaymentRepository:
    def __init__(self, sql: Sql) -> None:
        self._sql = sql

    async def get(self, order_id: str, *, lock: bool = False) -> Payment | None:
        query = PAYMENT + (self._sql.for_update if lock else "")
        row = await self._sql.one(query, {"order_id": order_id})
        if row is None:
            return None
        return Payment(
            order_id=row.order_id,
            amount_cents=row.amount_cents,
            currency=row.currency,
            method=row.method,
            outcome=ChargeOutcome(row.outcome),
            status=PaymentStatus(row.status),
            charged_cents=row.charged_cents,
            refunded_cents=row.refunded_cents,
        )

    async def add(self, payment: Payment) -> None:
        await self._sql.execute(ADD_PAYMENT, _columns(payment))

    async def save(self, payment: Payment) -> None:
        await self._sql.execute(SAVE_PAYMENT, _columns(payment))


def _columns(payment: Payment) -> dict[str, object]:
    return {
        "order_id": payment.order_id,
        "amount_cents": payment.amount_cents,
        "currency": payment.currency,
        "method": payment.method,
        "outcome": payment.outcome.value,
        "status": payment.status.value,
        "charged_cents": payment.charged_cents,
        "refunded_cents": payment.refunded_cents,
        "updated_at": datetime.now(UTC),
    }
