"""The inventory context's composition root."""

from fastapi import APIRouter
from sqlalchemy.ext.asyncio import AsyncSession

from shoplab.contracts.commands import CommitStock, ReleaseStock, ReserveStock, ReturnStock
from shoplab.contracts.events import OrderPlaced, PaymentCharged, PaymentFailed, PaymentRefunded
from shoplab.inventory.adapters.tables import MIGRATIONS
from shoplab.inventory.entrypoints import grpc_api
from shoplab.inventory.entrypoints.api import build_router
from shoplab.inventory.service_layer import choreography, handlers
from shoplab.inventory.service_layer.unit_of_work import SqlInventoryUnitOfWork
from shoplab.platform.auth import Authenticator
from shoplab.platform.grpc.server import GrpcService
from shoplab.platform.messaging.consumers import Subscription, idempotent_consumer
from shoplab.platform.persistence.database import Database
from shoplab.platform.persistence.migrate import upgrade


class InventoryContext:
    def __init__(self, database: Database) -> None:
        self.database = database

    def uow(self, *, join: AsyncSession | None = None) -> SqlInventoryUnitOfWork:
        return SqlInventoryUnitOfWork(self.database, join=join)

    async def migrate(self) -> None:
        await upgrade(self.database, MIGRATIONS)

    def subscriptions(self) -> list[Subscription]:
        """The commands this context accepts (microservices mode), and the handler of each."""
        return [
            idempotent_consumer(
                "inventory.reserve", ReserveStock, self.uow, handlers.reserve_stock
            ),
            idempotent_consumer("inventory.commit", CommitStock, self.uow, handlers.commit_stock),
            idempotent_consumer(
                "inventory.release", ReleaseStock, self.uow, handlers.release_stock
            ),
            idempotent_consumer("inventory.return", ReturnStock, self.uow, handlers.return_stock),
        ]

    def choreography_subscriptions(self) -> list[Subscription]:
        """The events inventory reacts to when sagas are choreographed."""
        return [
            idempotent_consumer(
                "inventory.choreography.OrderPlaced",
                OrderPlaced,
                self.uow,
                choreography.on_order_placed,
            ),
            idempotent_consumer(
                "inventory.choreography.PaymentCharged",
                PaymentCharged,
                self.uow,
                choreography.on_payment_charged,
            ),
            idempotent_consumer(
                "inventory.choreography.PaymentFailed",
                PaymentFailed,
                self.uow,
                choreography.on_payment_failed,
            ),
            idempotent_consumer(
                "inventory.choreography.PaymentRefunded",
                PaymentRefunded,
                self.uow,
                choreography.on_payment_refunded,
            ),
        ]

    def router(self, auth: Authenticator) -> APIRouter:
        return build_router(self.uow, auth)

    def grpc_service(self) -> GrpcService:
        """Availability for the catalog service, over gRPC (microservices mode)."""
        return grpc_api.grpc_service(self.uow)
