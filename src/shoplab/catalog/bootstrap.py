"""The catalog context's composition root."""

from fastapi import APIRouter
from sqlalchemy.ext.asyncio import AsyncSession

from shoplab.catalog.adapters.tables import MIGRATIONS
from shoplab.catalog.entrypoints import grpc_api
from shoplab.catalog.entrypoints.api import build_router
from shoplab.catalog.service_layer.ports import StockAvailability
from shoplab.catalog.service_layer.unit_of_work import SqlCatalogUnitOfWork
from shoplab.platform.grpc.server import GrpcService
from shoplab.platform.persistence.database import Database
from shoplab.platform.persistence.migrate import upgrade


class CatalogContext:
    def __init__(self, database: Database) -> None:
        self.database = database

    def uow(self, *, join: AsyncSession | None = None) -> SqlCatalogUnitOfWork:
        return SqlCatalogUnitOfWork(self.database, join=join)

    async def migrate(self) -> None:
        await upgrade(self.database, MIGRATIONS)

    def router(self, stock: StockAvailability) -> APIRouter:
        return build_router(self.uow, stock)

    def grpc_service(self) -> GrpcService:
        """Prices for the orders service, over gRPC (microservices mode)."""
        return grpc_api.grpc_service(self.uow)
