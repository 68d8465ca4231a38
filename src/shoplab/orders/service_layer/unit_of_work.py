"""The orders unit of work, with its outbox."""

from sqlalchemy.ext.asyncio import AsyncSession

from shoplab.orders.adapters import tables
from shoplab.orders.adapters.repository import SqlIdempotencyKeys, SqlOrderRepository
from shoplab.platform.unit_of_work import SqlUnitOfWork


class OrdersUnitOfWork(SqlUnitOfWork):
    outbox = tables.outbox
    orders: SqlOrderRepository
    idempotency_keys: SqlIdempotencyKeys

    def bind(self, session: AsyncSession) -> None:
        self.orders = SqlOrderRepository(session)
        self.idempotency_keys = SqlIdempotencyKeys(session)
