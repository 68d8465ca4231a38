"""The inventory context's bootstrap: its one face, for the monolith and for its service.

In the monolith other contexts reach inventory through the methods below (reservations
joined to an order's transaction; what is available, for catalog). As a service it takes
the same work as commands of an orchestrated saga and, with ``SHOPLAB_SAGA=choreography``,
also in reaction to the events of orders and payments.
"""

from collections.abc import Awaitable, Callable, Mapping

from fastapi import APIRouter

from shoplab.contracts.commands import CommitStock, ReleaseStock, ReserveStock, ReturnStock
from shoplab.contracts.contexts import context_named
from shoplab.contracts.events import OrderPlaced, PaymentCharged, PaymentFailed, PaymentRefunded
from shoplab.inventory.adapters.tables import MIGRATIONS, outbox
from shoplab.inventory.domain.model import UnknownSku
from shoplab.inventory.entrypoints import grpc_api
from shoplab.inventory.entrypoints.api import build_router
from shoplab.inventory.service_layer import choreography, handlers, services
from shoplab.inventory.service_layer.unit_of_work import SqlInventoryUnitOfWork
from shoplab.platform.auth import Authenticator
from shoplab.platform.grpc.server import GrpcService
from shoplab.platform.host import ServiceHost, ServiceParts
from shoplab.platform.messaging.consumers import Subscription, idempotent_consumer
from shoplab.platform.persistence.database import Database, Transaction
from shoplab.platform.persistence.migrate import upgrade

NAME = "inventory"


class InventoryContext:
    outbox = outbox

    def __init__(self, database: Database) -> None:
        self.database = database

    def uow(self, *, join: Transaction | None = None) -> SqlInventoryUnitOfWork:
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

    async def available(self, sku: str) -> int:
        """What can be ordered of ``sku`` now (0 for a sku without stock), in its own
        transaction: the answer catalog's product page shows."""
        try:
            item = await services.stock_level(self.uow(), sku)
        except UnknownSku:
            return 0
        return item.available

    async def reserve(
        self, order_id: str, quantities: Mapping[str, int], *, join: Transaction | None = None
    ) -> bool:
        """Hold stock for every line of an order, or none; False when any line is short."""
        return await services.reserve(self.uow(join=join), order_id, quantities)

    async def commit_reservation(self, order_id: str, *, join: Transaction | None = None) -> None:
        await services.commit_reservation(self.uow(join=join), order_id)

    async def release_reservation(self, order_id: str, *, join: Transaction | None = None) -> None:
        await services.release_reservation(self.uow(join=join), order_id)

    async def return_stock(self, order_id: str, *, join: Transaction | None = None) -> None:
        await services.return_stock(self.uow(join=join), order_id)

    async def add_missing(self, levels: Mapping[str, int]) -> None:
        """Create stock for skus that have none; never overwrites a counted level."""
        await services.seed(self.uow(), levels)


Load = Callable[[InventoryContext], Awaitable[None]]
"""Work for a fresh start, once the tables exist: loading the demo data, for one."""


async def _nothing(_inventory: InventoryContext) -> None:
    return None


def service(host: ServiceHost, *, load: Load = _nothing) -> ServiceParts:
    """The inventory service: stock levels; reserves, commits, releases and returns stock."""
    inventory = InventoryContext(host.database)

    async def start() -> None:
        await inventory.migrate()
        await load(inventory)

    subscriptions = inventory.subscriptions()
    if host.settings.saga == "choreography":
        subscriptions += inventory.choreography_subscriptions()
    return ServiceParts(
        routers=[inventory.router(host.auth)],
        grpc_services=[inventory.grpc_service()],
        grpc_callers={grpc_api.SERVICE: context_named(NAME).grpc_callers},
        subscriptions=subscriptions,
        outboxes=[inventory.outbox],
        start=start,
    )
