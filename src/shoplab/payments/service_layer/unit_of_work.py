"""The payments unit of work, with its outbox and inbox."""

from sqlalchemy.ext.asyncio import AsyncSession

from shoplab.payments.adapters import tables
from shoplab.payments.adapters.charge_request_repository import SqlChargeRequests
from shoplab.payments.adapters.repository import SqlPaymentRepository
from shoplab.platform.persistence.unit_of_work import SqlUnitOfWork


class PaymentsUnitOfWork(SqlUnitOfWork):
    outbox = tables.outbox
    inbox = tables.inbox
    payments: SqlPaymentRepository
    charge_requests: SqlChargeRequests

    def bind(self, session: AsyncSession) -> None:
        self.payments = SqlPaymentRepository(session)
        self.charge_requests = SqlChargeRequests(session)
