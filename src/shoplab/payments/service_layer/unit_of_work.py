"""The payments unit of work."""

from sqlalchemy.ext.asyncio import AsyncSession

from shoplab.payments.adapters.repository import SqlPaymentRepository
from shoplab.platform.unit_of_work import SqlUnitOfWork


class PaymentsUnitOfWork(SqlUnitOfWork):
    payments: SqlPaymentRepository

    def bind(self, session: AsyncSession) -> None:
        self.payments = SqlPaymentRepository(session)
