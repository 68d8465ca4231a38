"""The orders unit of work, with its outbox, its inbox and its sagas (either style)."""

from sqlalchemy.ext.asyncio import AsyncSession

from shoplab.orders.adapters import tables
from shoplab.orders.adapters.choreography_repository import SqlChoreographyRepository
from shoplab.orders.adapters.orchestration_repository import SqlOrchestrationRepository
from shoplab.orders.adapters.repository import SqlIdempotencyKeys, SqlOrderRepository
from shoplab.platform.persistence.unit_of_work import SqlUnitOfWork


class OrdersUnitOfWork(SqlUnitOfWork):
    outbox = tables.outbox
    inbox = tables.inbox
    orders: SqlOrderRepository
    idempotency_keys: SqlIdempotencyKeys
    sagas: SqlOrchestrationRepository
    choreographies: SqlChoreographyRepository

    def bind(self, session: AsyncSession) -> None:
        self.orders = SqlOrderRepository(session)
        self.idempotency_keys = SqlIdempotencyKeys(session)
        self.sagas = SqlOrchestrationRepository(session)
        self.choreographies = SqlChoreographyRepository(session)
