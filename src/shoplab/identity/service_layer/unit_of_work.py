"""The identity unit of work: the ports of its storage, and their SQL implementation.

The use cases see ``IdentityUnitOfWork`` and its ``CustomerRepository``;
``SqlIdentityUnitOfWork`` implements them with the context's outbox.
"""

from typing import Protocol

from shoplab.identity.adapters import tables
from shoplab.identity.adapters.repository import SqlCustomerRepository
from shoplab.identity.domain.model import Customer
from shoplab.platform.persistence.sql import Sql
from shoplab.platform.persistence.unit_of_work import SqlUnitOfWork, UnitOfWorkWithOutbox


class CustomerRepository(Protocol):
    async def by_email(self, email: str) -> Customer | None:
        """The customer with this normalized email, if any."""
        ...

    async def add(self, customer: Customer) -> None:
        """Raises ``EmailTaken`` when another account holds the email (even one added
        concurrently)."""
        ...


class IdentityUnitOfWork(UnitOfWorkWithOutbox, Protocol):
    customers: CustomerRepository


class SqlIdentityUnitOfWork(SqlUnitOfWork, IdentityUnitOfWork):
    outbox = tables.outbox
    customers: SqlCustomerRepository

    def bind(self, sql: Sql) -> None:
        self.customers = SqlCustomerRepository(sql)
