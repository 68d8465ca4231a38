"""The orders unit of work: the ports of its storage, and their SQL implementation.

The use cases see ``OrdersUnitOfWork`` and its repositories, ports declared here;
``SqlOrdersUnitOfWork`` implements them with its outbox, its inbox and its sagas
(either style) on one transaction, and the tests' fakes implement them in memory.
"""

from collections.abc import Callable
from datetime import datetime
from typing import Protocol

from shoplab.orders.adapters import tables
from shoplab.orders.adapters.choreography_repository import SqlChoreographyRepository
from shoplab.orders.adapters.orchestration_repository import SqlOrchestrationRepository
from shoplab.orders.adapters.repository import (
    ClaimedKey,
    OrderSummary,
    SqlIdempotencyKeys,
    SqlOrderRepository,
)
from shoplab.orders.domain.choreography import ChoreographedSaga
from shoplab.orders.domain.model import Order, OrderStatus
from shoplab.orders.domain.orchestration import OrchestratedSaga
from shoplab.platform.persistence.sql import Sql
from shoplab.platform.persistence.unit_of_work import SqlUnitOfWork, UnitOfWorkWithOutbox


class OrderRepository(Protocol):
    async def get(self, order_id: str, *, lock: bool = False) -> Order | None: ...

    async def lock(self, order_id: str) -> OrderStatus | None:
        """Lock the order as ``get(lock=True)`` does, reading only its status (``None``: no
        such order): for a saga step, which needs the rest only when it settles the order."""
        ...

    async def add(self, order: Order) -> None: ...

    async def save(self, order: Order) -> None:
        """Store the order's status, reason and time; its lines never change."""
        ...

    async def summaries_for(self, customer_id: str, limit: int) -> list[OrderSummary]:
        """The customer's newest orders, newest first."""
        ...

    async def pending(self) -> int:
        """How many orders still wait for their saga to settle them."""
        ...


class IdempotencyKeys(Protocol):
    async def claim(
        self, customer_id: str, key: str, fingerprint: str, order_id: str
    ) -> ClaimedKey:
        """Claim ``key`` for ``order_id``; returns whoever holds it (maybe an earlier order)."""
        ...

    async def holder(self, customer_id: str, key: str) -> ClaimedKey | None:
        """Who holds ``key``, if anyone."""
        ...


class OrchestrationRepository(Protocol):
    async def get(self, order_id: str, *, lock: bool = False) -> OrchestratedSaga | None: ...

    async def add(self, saga: OrchestratedSaga) -> None: ...

    async def save(self, saga: OrchestratedSaga) -> None: ...

    async def overdue(self, now: datetime, limit: int) -> list[str]:
        """Orders whose saga waits for an answer past its deadline, oldest deadline first."""
        ...


class ChoreographyRepository(Protocol):
    async def get(self, order_id: str, *, lock: bool = False) -> ChoreographedSaga | None: ...

    async def add(self, saga: ChoreographedSaga) -> None: ...

    async def save(self, saga: ChoreographedSaga) -> None: ...


class OrdersUnitOfWork(UnitOfWorkWithOutbox, Protocol):
    orders: OrderRepository
    idempotency_keys: IdempotencyKeys
    sagas: OrchestrationRepository
    choreographies: ChoreographyRepository

    def after_commit(self, callback: Callable[[], None]) -> None:
        """Run ``callback`` once the transaction has committed; never if it rolls back."""
        ...


class SqlOrdersUnitOfWork(SqlUnitOfWork, OrdersUnitOfWork):
    outbox = tables.outbox
    inbox = tables.inbox
    orders: SqlOrderRepository
    idempotency_keys: SqlIdempotencyKeys
    sagas: SqlOrchestrationRepository
    choreographies: SqlChoreographyRepository

    def bind(self, sql: Sql) -> None:
        self.orders = SqlOrderRepository(sql)
        self.idempotency_keys = SqlIdempotencyKeys(sql)
        self.sagas = SqlOrchestrationRepository(sql)
        self.choreographies = SqlChoreographyRepository(sql)
