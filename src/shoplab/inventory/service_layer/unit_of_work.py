"""The inventory unit of work: the ports of its storage, and their SQL implementation.

The use cases see ``InventoryUnitOfWork`` with its stock and its reservations;
``SqlInventoryUnitOfWork`` implements them with the outbox and the inbox, all on
one transaction.
"""

from typing import Protocol

from shoplab.inventory.adapters import tables
from shoplab.inventory.adapters.repository import SqlReservationRepository, SqlStockRepository
from shoplab.inventory.domain.model import Reservation, StockItem
from shoplab.platform.persistence.sql import Sql
from shoplab.platform.persistence.unit_of_work import SqlUnitOfWork, UnitOfWorkWithOutbox


class StockRepository(Protocol):
    async def get_many(self, skus: list[str], *, lock: bool = False) -> dict[str, StockItem]:
        """The stock of ``skus`` that is kept, by sku (``lock``: rows locked in sku order)."""
        ...

    async def get(self, sku: str, *, lock: bool = False) -> StockItem | None: ...

    async def add(self, item: StockItem) -> None: ...

    async def save(self, items: list[StockItem]) -> None: ...


class ReservationRepository(Protocol):
    async def get(self, order_id: str) -> Reservation | None: ...

    async def add(self, reservation: Reservation) -> None: ...

    async def save(self, reservation: Reservation) -> None:
        """Store the reservation's status; its lines never change."""
        ...


class InventoryUnitOfWork(UnitOfWorkWithOutbox, Protocol):
    stock: StockRepository
    reservations: ReservationRepository


class SqlInventoryUnitOfWork(SqlUnitOfWork, InventoryUnitOfWork):
    outbox = tables.outbox
    inbox = tables.inbox
    stock: SqlStockRepository
    reservations: SqlReservationRepository

    def bind(self, sql: Sql) -> None:
        self.stock = SqlStockRepository(sql)
        self.reservations = SqlReservationRepository(sql)
