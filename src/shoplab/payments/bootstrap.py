"""The payments context's composition root."""

from fastapi import APIRouter
from sqlalchemy.ext.asyncio import AsyncSession

from shoplab.contracts.commands import ChargePayment, RefundPayment, VoidPayment
from shoplab.contracts.events import OrderCancellationRequested, OrderPlaced, StockReserved
from shoplab.payments.adapters.card_processor import TestCardProcessor
from shoplab.payments.adapters.tables import MIGRATIONS
from shoplab.payments.entrypoints import grpc_api
from shoplab.payments.entrypoints.api import build_router
from shoplab.payments.service_layer import choreography, handlers
from shoplab.payments.service_layer.ports import CardProcessor
from shoplab.payments.service_layer.unit_of_work import SqlPaymentsUnitOfWork
from shoplab.platform.auth import Authenticator
from shoplab.platform.grpc.server import GrpcService
from shoplab.platform.messaging.consumers import Subscription, idempotent_consumer
from shoplab.platform.persistence.database import Database
from shoplab.platform.persistence.migrate import upgrade


class PaymentsContext:
    def __init__(self, database: Database, processor: CardProcessor | None = None) -> None:
        self.database = database
        self.processor: CardProcessor = processor or TestCardProcessor()

    def uow(self, *, join: AsyncSession | None = None) -> SqlPaymentsUnitOfWork:
        return SqlPaymentsUnitOfWork(self.database, join=join)

    async def migrate(self) -> None:
        await upgrade(self.database, MIGRATIONS)

    def subscriptions(self) -> list[Subscription]:
        """The commands this context accepts (microservices mode), and the handler of each."""
        return [
            idempotent_consumer(
                "payments.charge", ChargePayment, self.uow, handlers.charge_payment(self.processor)
            ),
            idempotent_consumer(
                "payments.refund", RefundPayment, self.uow, handlers.refund_payment
            ),
            idempotent_consumer("payments.void", VoidPayment, self.uow, handlers.void_payment),
        ]

    def choreography_subscriptions(self) -> list[Subscription]:
        """The events payments reacts to when sagas are choreographed."""
        return [
            idempotent_consumer(
                "payments.choreography.OrderPlaced",
                OrderPlaced,
                self.uow,
                choreography.on_order_placed(self.processor),
            ),
            idempotent_consumer(
                "payments.choreography.StockReserved",
                StockReserved,
                self.uow,
                choreography.on_stock_reserved(self.processor),
            ),
            idempotent_consumer(
                "payments.choreography.OrderCancellationRequested",
                OrderCancellationRequested,
                self.uow,
                choreography.on_cancellation_requested,
            ),
        ]

    def router(self, auth: Authenticator) -> APIRouter:
        return build_router(self.uow, auth)

    def grpc_service(self) -> GrpcService:
        """Accepted methods for orders, payments for the gateway: gRPC (microservices mode)."""
        return grpc_api.grpc_service(self.uow, self.processor)
