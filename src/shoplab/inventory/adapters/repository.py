"""Stock and reservations in SQL. Rows are locked in sku order to avoid deadlocks."""

from datetime import UTC, datetime

from sqlalchemy import insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from shoplab.inventory.adapters.tables import reservations, stock
from shoplab.inventory.domain.model import Reservation, ReservationStatus, StockItem


class SqlStockRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def get_many(self, skus: list[str], *, lock: bool = False) -> dict[str, StockItem]:
        query = select(stock).where(stock.c.sku.in_(sorted(skus))).order_by(stock.c.sku)
        if lock:
            query = query.with_for_update()
        rows = await self._session.execute(query)
        return {row.sku: StockItem(row.sku, row.on_hand, row.reserved) for row in rows}

    async def get(self, sku: str, *, lock: bool = False) -> StockItem | None:
        return (await self.get_many([sku], lock=lock)).get(sku)

    async def add(self, item: StockItem) -> None:
        await self._session.execute(
            insert(stock).values(sku=item.sku, on_hand=item.on_hand, reserved=item.reserved)
        )

    async def save(self, items: list[StockItem]) -> None:
        for item in items:
            await self._session.execute(
                update(stock)
                .where(stock.c.sku == item.sku)
                .values(on_hand=item.on_hand, reserved=item.reserved)
            )


class SqlReservationRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def get(self, order_id: str) -> Reservation | None:
        row = (
            await self._session.execute(
                select(reservations).where(reservations.c.order_id == order_id)
            )
        ).first()
        if row is None:
            return None
        return Reservation(row.order_id, dict(row.lines), ReservationStatus(row.status))

    async def add(self, reservation: Reservation) -> None:
        await self._session.execute(
            insert(reservations),
            {
                "order_id": reservation.order_id,
                "status": reservation.status.value,
                "lines": reservation.lines,
                "updated_at": datetime.now(UTC),
            },
        )

    async def save(self, reservation: Reservation) -> None:
        await self._session.execute(
            update(reservations)
            .where(reservations.c.order_id == reservation.order_id)
            .values(status=reservation.status.value, updated_at=datetime.now(UTC))
        )
