"""The catalog context's composition root."""

from fastapi import APIRouter
from sqlalchemy.ext.asyncio import AsyncSession

from shoplab.catalog.adapters.tables import MIGRATIONS
from shoplab.catalog.entrypoints.api import build_router
from shoplab.catalog.entrypoints.internal_api import build_internal_router
from shoplab.catalog.service_layer.ports import StockAvailability
from shoplab.catalog.service_layer.unit_of_work import CatalogUnitOfWork
from shoplab.platform.database import Database
from shoplab.platform.migrate import upgrade


class CatalogContext:
    def __init__(self, database: Database) -> None:
        self.database = database

    def uow(self, *, join: AsyncSession | None = None) -> CatalogUnitOfWork:
        return CatalogUnitOfWork(self.database, join=join)

    async def migrate(self) -> None:
        await upgrade(self.database, MIGRATIONS)

    def router(self, stock: StockAvailability) -> APIRouter:
        return build_router(self.uow, stock)

    def internal_router(self) -> APIRouter:
        """Prices for the orders service (microservices mode)."""
        return build_internal_router(self.uow)
