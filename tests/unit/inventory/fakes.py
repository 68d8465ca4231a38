"""Inventory's ports in memory: its unit of work, its stock and its reservations."""

from shoplab.inventory.domain.model import Reservation, StockItem
from shoplab.inventory.service_layer.unit_of_work import (
    InventoryUnitOfWork,
    ReservationRepository,
    StockRepository,
)

from ..fakes import FakeRepository, FakeUnitOfWork


class FakeStockRepository(FakeRepository[StockItem], StockRepository):
    async def get_many(self, skus: list[str], *, lock: bool = False) -> dict[str, StockItem]:
        found = {sku: self._get(sku) for sku in sorted(skus)}
        return {sku: item for sku, item in found.items() if item is not None}

    async def get(self, sku: str, *, lock: bool = False) -> StockItem | None:
        return self._get(sku)

    async def add(self, item: StockItem) -> None:
        self._insert(item.sku, item)

    async def save(self, items: list[StockItem]) -> None:
        for item in items:
            self._update(item.sku, item)


class FakeReservationRepository(FakeRepository[Reservation], ReservationRepository):
    async def get(self, order_id: str) -> Reservation | None:
        return self._get(order_id)

    async def add(self, reservation: Reservation) -> None:
        self._insert(reservation.order_id, reservation)

    async def save(self, reservation: Reservation) -> None:
        stored = self.rows.get(reservation.order_id)
        if stored is not None:  # as the table: the status changes, the lines never do
            kept = Reservation(stored.order_id, stored.lines, reservation.status)
            self._update(reservation.order_id, kept)


class FakeInventoryUnitOfWork(FakeUnitOfWork, InventoryUnitOfWork):
    stock: FakeStockRepository
    reservations: FakeReservationRepository

    def __init__(self, stock: dict[str, int] | None = None) -> None:
        self.stock = FakeStockRepository()
        self.reservations = FakeReservationRepository()
        for sku, on_hand in (stock or {}).items():
            self.stock.rows[sku] = StockItem(sku, on_hand)
        super().__init__(self.stock, self.reservations)

    def level(self, sku: str) -> tuple[int, int]:
        """``(on_hand, reserved)`` of ``sku`` as committed."""
        item = self.stock.rows[sku]
        return item.on_hand, item.reserved
