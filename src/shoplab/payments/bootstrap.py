"""The payments context's bootstrap: its one face, for the monolith and for its service.

In the monolith orders reaches payments through the methods below, charges and refunds
joined to the order's transaction. As a service it takes the same work as commands of an
orchestrated saga and, with ``SHOPLAB_SAGA=choreography``, also in reaction to the events
of orders and inventory.
"""

from fastapi import APIRouter

from shoplab.contracts.commands import ChargePayment, RefundPayment, VoidPayment
from shoplab.contracts.contexts import context_named
from shoplab.contracts.events import OrderCancellationRequested, OrderPlaced, StockReserved
from shoplab.contracts.views import PaymentView
from shoplab.payments.adapters.card_processor import TestCardProcessor
from shoplab.payments.adapters.tables import MIGRATIONS, outbox
from shoplab.payments.domain.model import ChargeOutcome, NoPayment
from shoplab.payments.entrypoints import api, grpc_api
from shoplab.payments.service_layer import choreography, handlers, services
from shoplab.payments.service_layer.ports import CardProcessor
from shoplab.payments.service_layer.unit_of_work import SqlPaymentsUnitOfWork
from shoplab.platform.auth import Authenticator
from shoplab.platform.grpc.server import GrpcService
from shoplab.platform.host import ServiceHost, ServiceParts
from shoplab.platform.messaging.consumers import Subscription, idempotent_consumer
from shoplab.platform.persistence.database import Database, Transaction
from shoplab.platform.persistence.migrate import upgrade

NAME = "payments"


class PaymentsContext:
    outbox = outbox

    def __init__(self, database: Database, processor: CardProcessor | None = None) -> None:
        self.database = database
        self.processor: CardProcessor = processor or TestCardProcessor()

    def uow(self, *, join: Transaction | None = None) -> SqlPaymentsUnitOfWork:
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
        return api.build_router(self.uow, auth)

    def grpc_service(self) -> GrpcService:
        """Accepted methods for orders, payments for the gateway: gRPC (microservices mode)."""
        return grpc_api.grpc_service(self.uow, self.processor)

    async def accepts(self, method: str) -> bool:
        return self.processor.accepts(method)

    async def charge(
        self,
        order_id: str,
        amount_cents: int,
        currency: str,
        method: str,
        *,
        join: Transaction | None = None,
    ) -> ChargeOutcome:
        """Charge an order once; asking again answers the first outcome."""
        return await services.charge(
            self.uow(join=join), self.processor, order_id, amount_cents, currency, method
        )

    async def refund(self, order_id: str, *, join: Transaction | None = None) -> int:
        """Refund an order's payment in full; returns the cents refunded in all."""
        return await services.refund(self.uow(join=join), order_id)

    async def payment_view(self, order_id: str) -> PaymentView | None:
        """The order's payment as its endpoint shows it; None before any charge."""
        try:
            return api.payment_view(await services.payment_for(self.uow(), order_id))
        except NoPayment:
            return None


def service(host: ServiceHost) -> ServiceParts:
    """The payments service: charges, refunds and voids payments."""
    payments = PaymentsContext(host.database)
    subscriptions = payments.subscriptions()
    if host.settings.saga == "choreography":
        subscriptions += payments.choreography_subscriptions()
    return ServiceParts(
        routers=[payments.router(host.auth)],
        grpc_services=[payments.grpc_service()],
        grpc_callers={grpc_api.SERVICE: context_named(NAME).grpc_callers},
        subscriptions=subscriptions,
        outboxes=[payments.outbox],
        start=payments.migrate,
    )
