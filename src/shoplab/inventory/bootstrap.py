"""The inventory context's composition root."""

from fastapi import APIRouter
from sqlalchemy.ext.asyncio import AsyncSession

from shoplab.inventory.adapters.tables import MIGRATIONS
from shoplab.inventory.entrypoints.api import build_router
from shoplab.inventory.service_layer.unit_of_work import InventoryUnitOfWork
from shoplab.platform.auth import Authenticator
from shoplab.platform.database import Database
from shoplab.platform.migrate import upgrade


class InventoryContext:
    def __init__(self, database: Database) -> None:
        self.database = database

    def uow(self, *, join: AsyncSession | None = None) -> InventoryUnitOfWork:
        return InventoryUnitOfWork(self.database, join=join)

    async def migrate(self) -> None:
        await upgrade(self.database, MIGRATIONS)

    def router(self, auth: Authenticator) -> APIRouter:
        return build_router(self.uow, auth)
