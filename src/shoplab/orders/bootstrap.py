"""The orders context's composition root."""

from fastapi import APIRouter
from sqlalchemy.ext.asyncio import AsyncSession

from shoplab.orders.adapters.tables import MIGRATIONS, outbox
from shoplab.orders.entrypoints.api import build_router
from shoplab.orders.service_layer.services import Connect
from shoplab.orders.service_layer.unit_of_work import OrdersUnitOfWork
from shoplab.platform.auth import Authenticator
from shoplab.platform.database import Database
from shoplab.platform.migrate import upgrade


class OrdersContext:
    outbox = outbox

    def __init__(self, database: Database, connect: Connect) -> None:
        self.database = database
        self.connect = connect

    def uow(self, *, join: AsyncSession | None = None) -> OrdersUnitOfWork:
        return OrdersUnitOfWork(self.database, join=join)

    async def migrate(self) -> None:
        await upgrade(self.database, MIGRATIONS)

    def router(self, auth: Authenticator) -> APIRouter:
        return build_router(self.uow, self.connect, auth)
