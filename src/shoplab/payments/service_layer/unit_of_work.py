"""The payments unit of work: the ports of its storage, and their SQL implementation.

The use cases see ``PaymentsUnitOfWork`` with its payments and charge requests;
``SqlPaymentsUnitOfWork`` implements them with the outbox and the inbox.
"""

from typing import Protocol

from shoplab.payments.adapters import tables
from shoplab.payments.adapters.charge_request_repository import SqlChargeRequests
from shoplab.payments.adapters.repository import SqlPaymentRepository
from shoplab.payments.domain.charge_request import ChargeRequest
from shoplab.payments.domain.model import Payment
from shoplab.platform.persistence.sql import Sql
from shoplab.platform.persistence.unit_of_work import SqlUnitOfWork, UnitOfWorkWithOutbox


class PaymentRepository(Protocol):
    async def get(self, order_id: str, *, lock: bool = False) -> Payment | None: ...

    async def add(self, payment: Payment) -> None: ...

    async def save(self, payment: Payment) -> None: ...


class ChargeRequests(Protocol):
    async def get(self, order_id: str, *, lock: bool = False) -> ChargeRequest | None: ...

    async def add(self, request: ChargeRequest) -> None: ...

    async def save(self, request: ChargeRequest) -> None: ...


class PaymentsUnitOfWork(UnitOfWorkWithOutbox, Protocol):
    payments: PaymentRepository
    charge_requests: ChargeRequests


class SqlPaymentsUnitOfWork(SqlUnitOfWork, PaymentsUnitOfWork):
    outbox = tables.outbox
    inbox = tables.inbox
    payments: SqlPaymentRepository
    charge_requests: SqlChargeRequests

    def bind(self, sql: Sql) -> None:
        self.payments = SqlPaymentRepository(sql)
        self.charge_requests = SqlChargeRequests(sql)
