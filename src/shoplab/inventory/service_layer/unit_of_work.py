"""The inventory unit of work: its repositories on one transaction."""

from sqlalchemy.ext.asyncio import AsyncSession

from shoplab.inventory.adapters.repository import SqlReservationRepository, SqlStockRepository
from shoplab.platform.unit_of_work import SqlUnitOfWork


class InventoryUnitOfWork(SqlUnitOfWork):
    stock: SqlStockRepository
    reservations: SqlReservationRepository

    def bind(self, session: AsyncSession) -> None:
        self.stock = SqlStockRepository(session)
        self.reservations = SqlReservationRepository(session)
