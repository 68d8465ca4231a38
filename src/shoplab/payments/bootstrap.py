"""The payments context's composition root."""

from fastapi import APIRouter
from sqlalchemy.ext.asyncio import AsyncSession

from shoplab.payments.adapters.card_processor import TestCardProcessor
from shoplab.payments.adapters.tables import MIGRATIONS
from shoplab.payments.entrypoints.api import build_router
from shoplab.payments.service_layer.ports import CardProcessor
from shoplab.payments.service_layer.unit_of_work import PaymentsUnitOfWork
from shoplab.platform.auth import Authenticator
from shoplab.platform.database import Database
from shoplab.platform.migrate import upgrade


class PaymentsContext:
    def __init__(self, database: Database, processor: CardProcessor | None = None) -> None:
        self.database = database
        self.processor: CardProcessor = processor or TestCardProcessor()

    def uow(self, *, join: AsyncSession | None = None) -> PaymentsUnitOfWork:
        return PaymentsUnitOfWork(self.database, join=join)

    async def migrate(self) -> None:
        await upgrade(self.database, MIGRATIONS)

    def router(self, auth: Authenticator) -> APIRouter:
        return build_router(self.uow, auth)
