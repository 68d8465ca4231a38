"""The inventory unit of work: its repositories, outbox and inbox on one transaction."""

from sqlalchemy.ext.asyncio import AsyncSession

from shoplab.inventory.adapters import tables
from shoplab.inventory.adapters.repository import SqlReservationRepository, SqlStockRepository
from shoplab.platform.persistence.unit_of_work import SqlUnitOfWork


class InventoryUnitOfWork(SqlUnitOfWork):
    outbox = tables.outbox
    inbox = tables.inbox
    stock: SqlStockRepository
    reservations: SqlReservationRepository

    def bind(self, session: AsyncSession) -> None:
        self.stock = SqlStockRepository(session)
        self.reservations = SqlReservationRepository(session)
