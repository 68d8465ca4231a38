"""The orders context's composition root."""

from fastapi import APIRouter
from sqlalchemy.ext.asyncio import AsyncSession

from shoplab.orders.adapters.tables import MIGRATIONS, outbox
from shoplab.orders.domain.orchestration import Timeouts
from shoplab.orders.entrypoints.api import build_router
from shoplab.orders.entrypoints.saga_api import build_saga_router, choreographed
from shoplab.orders.service_layer.choreography import FACTS, fact_handler
from shoplab.orders.service_layer.orchestration import expire_overdue
from shoplab.orders.service_layer.orchestration_answers import ANSWERS, answer_handler
from shoplab.orders.service_layer.services import Connect
from shoplab.orders.service_layer.unit_of_work import SqlOrdersUnitOfWork
from shoplab.platform.auth import Authenticator
from shoplab.platform.messaging.consumers import Subscription, idempotent_consumer
from shoplab.platform.persistence.database import Database
from shoplab.platform.persistence.migrate import upgrade


class OrdersContext:
    outbox = outbox

    def __init__(self, database: Database, connect: Connect[SqlOrdersUnitOfWork]) -> None:
        self.database = database
        self.connect = connect

    def uow(self, *, join: AsyncSession | None = None) -> SqlOrdersUnitOfWork:
        return SqlOrdersUnitOfWork(self.database, join=join)

    async def migrate(self) -> None:
        await upgrade(self.database, MIGRATIONS)

    def router(self, auth: Authenticator) -> APIRouter:
        return build_router(self.uow, self.connect, auth)

    def orchestration_router(self, auth: Authenticator) -> APIRouter:
        return build_saga_router(self.uow, auth)

    def choreography_router(self, auth: Authenticator) -> APIRouter:
        return build_saga_router(self.uow, auth, choreographed)

    def orchestration_subscriptions(self, timeouts: Timeouts) -> list[Subscription]:
        """The answers the saga waits for, one durable consumer each."""
        return [
            idempotent_consumer(
                f"orders.saga.{answer.__name__}",
                answer,
                self.uow,
                answer_handler(reply_of, timeouts),
            )
            for answer, reply_of in ANSWERS.items()
        ]

    def choreography_subscriptions(self) -> list[Subscription]:
        """The participants' events a choreographed saga is settled by, one consumer each."""
        return [
            idempotent_consumer(
                f"orders.choreography.{event.__name__}", event, self.uow, fact_handler(fact_of)
            )
            for event, fact_of in FACTS.items()
        ]

    async def expire_overdue_steps(self, timeouts: Timeouts) -> int:
        return await expire_overdue(self.uow, timeouts)
