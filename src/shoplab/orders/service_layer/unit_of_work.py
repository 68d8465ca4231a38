"""The orders unit of work, with its outbox, its inbox and its sagas (either style)."""

from collections.abc import Callable

from sqlalchemy.ext.asyncio import AsyncSession

from shoplab.orders.adapters import tables
from shoplab.orders.adapters.choreography_repository import SqlChoreographyRepository
from shoplab.orders.adapters.repository import SqlIdempotencyKeys, SqlOrderRepository
from shoplab.orders.adapters.saga_repository import SqlSagaRepository
from shoplab.platform.unit_of_work import SqlUnitOfWork


class OrdersUnitOfWork(SqlUnitOfWork):
    outbox = tables.outbox
    inbox = tables.inbox
    orders: SqlOrderRepository
    idempotency_keys: SqlIdempotencyKeys
    sagas: SqlSagaRepository
    choreographies: SqlChoreographyRepository

    def bind(self, session: AsyncSession) -> None:
        self.orders = SqlOrderRepository(session)
        self.idempotency_keys = SqlIdempotencyKeys(session)
        self.sagas = SqlSagaRepository(session)
        self.choreographies = SqlChoreographyRepository(session)
        self._after_commit: list[Callable[[], None]] = []

    def after_commit(self, callback: Callable[[], None]) -> None:
        """Run ``callback`` once this transaction has committed; never if it rolls back.

        For what must happen once per change, such as counting a saga's outcome: a
        transition that rolls back and is delivered again commits, and counts, once.
        """
        if self._joined is not None:
            raise RuntimeError("a joined unit of work cannot tell when its owner commits")
        self._after_commit.append(callback)

    async def commit(self) -> None:
        await super().commit()
        callbacks, self._after_commit = self._after_commit, []
        for callback in callbacks:
            callback()
