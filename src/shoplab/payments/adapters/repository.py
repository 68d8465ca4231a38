"""Payments in SQL."""

from datetime import UTC, datetime

from sqlalchemy import insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from shoplab.payments.adapters.tables import payments
from shoplab.payments.domain.model import ChargeOutcome, Payment, PaymentStatus


class SqlPaymentRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def get(self, order_id: str, *, lock: bool = False) -> Payment | None:
        query = select(payments).where(payments.c.order_id == order_id)
        if lock:
            query = query.with_for_update()
        row = (await self._session.execute(query)).first()
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
        await self._session.execute(insert(payments), self._columns(payment))

    async def save(self, payment: Payment) -> None:
        await self._session.execute(
            update(payments)
            .where(payments.c.order_id == payment.order_id)
            .values(**self._columns(payment))
        )

    @staticmethod
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
