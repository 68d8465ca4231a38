"""The identity unit of work, with its outbox."""

from sqlalchemy.ext.asyncio import AsyncSession

from shoplab.identity.adapters import tables
from shoplab.identity.adapters.repository import SqlCustomerRepository
from shoplab.platform.persistence.unit_of_work import SqlUnitOfWork


class IdentityUnitOfWork(SqlUnitOfWork):
    outbox = tables.outbox
    customers: SqlCustomerRepository

    def bind(self, session: AsyncSession) -> None:
        self.customers = SqlCustomerRepository(session)
