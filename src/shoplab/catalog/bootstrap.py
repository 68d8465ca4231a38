"""The catalog context's bootstrap: its one face, for the monolith and for its service.

Catalog asks inventory what can be ordered (its ``StockAvailability`` port): the monolith
hands it inventory's face, the service a gRPC client of the inventory service.
"""

from collections.abc import Awaitable, Callable, Iterable
from typing import Protocol

from fastapi import APIRouter

from shoplab.catalog.adapters.remote import GrpcStockAvailability
from shoplab.catalog.adapters.tables import MIGRATIONS
from shoplab.catalog.domain.model import Product
from shoplab.catalog.entrypoints import grpc_api
from shoplab.catalog.entrypoints.api import build_router
from shoplab.catalog.service_layer import services
from shoplab.catalog.service_layer.ports import StockAvailability
from shoplab.catalog.service_layer.unit_of_work import SqlCatalogUnitOfWork
from shoplab.contracts.contexts import context_named
from shoplab.platform.grpc.server import GrpcService
from shoplab.platform.host import ServiceHost, ServiceParts
from shoplab.platform.persistence.database import Database, Transaction
from shoplab.platform.persistence.migrate import upgrade

NAME = "catalog"


class Listing(Protocol):
    """A product as a loader of products describes it (the demo data, for one)."""

    @property
    def sku(self) -> str: ...
    @property
    def name(self) -> str: ...
    @property
    def description(self) -> str: ...
    @property
    def price_cents(self) -> int: ...
    @property
    def currency(self) -> str: ...


class CatalogContext:
    def __init__(self, database: Database) -> None:
        self.database = database

    def uow(self, *, join: Transaction | None = None) -> SqlCatalogUnitOfWork:
        return SqlCatalogUnitOfWork(self.database, join=join)

    async def migrate(self) -> None:
        await upgrade(self.database, MIGRATIONS)

    def router(self, stock: StockAvailability) -> APIRouter:
        return build_router(self.uow, stock)

    def grpc_service(self) -> GrpcService:
        """Prices for the orders service, over gRPC (microservices mode)."""
        return grpc_api.grpc_service(self.uow)

    async def prices(
        self, skus: Iterable[str], *, join: Transaction | None = None
    ) -> dict[str, Product]:
        """The listed products among ``skus``, read in the caller's transaction when joined."""
        return await services.price_list(self.uow(join=join), skus)

    async def add_missing(self, listings: Iterable[Listing]) -> None:
        """Add the products the catalog does not have yet; safe to run at every start."""
        products = [
            Product(item.sku, item.name, item.description, item.price_cents, item.currency)
            for item in listings
        ]
        await services.seed(self.uow(), products)


Load = Callable[[CatalogContext], Awaitable[None]]
"""Work for a fresh start, once the tables exist: loading the demo data, for one."""


async def _nothing(_catalog: CatalogContext) -> None:
    return None


def service(host: ServiceHost, *, load: Load = _nothing) -> ServiceParts:
    """The catalog service: products and prices; asks the inventory service what is available."""
    catalog = CatalogContext(host.database)

    async def start() -> None:
        await catalog.migrate()
        await load(catalog)

    stock = GrpcStockAvailability(host.grpc_client("inventory"))
    return ServiceParts(
        routers=[catalog.router(stock)],
        grpc_services=[catalog.grpc_service()],
        grpc_callers={grpc_api.SERVICE: context_named(NAME).grpc_callers},
        start=start,
    )
