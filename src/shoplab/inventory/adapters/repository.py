"""Stock and reservations in SQL. Rows are locked in sku order to avoid deadlocks."""

from datetime import UTC, datetime

from shoplab.inventory.domain.model import Reservation, ReservationStatus, StockItem
from shoplab.platform.persistence.sql import Sql, from_json, in_list, json_text

ADD_STOCK = (
    "INSERT INTO inventory_stock (sku, on_hand, reserved) VALUES (:sku, :on_hand, :reserved)"
)
SAVE_STOCK = "UPDATE inventory_stock SET on_hand = :on_hand, reserved = :reserved WHERE sku = :sku"
RESERVATION = (
    "SELECT order_id, lines, status FROM inventory_reservations WHERE order_id = :order_id"
)
ADD_RESERVATION = (
    "INSERT INTO inventory_reservations (order_id, status, lines, updated_at)"
    " VALUES (:order_id, :status, :lines, :updated_at)"
)
SAVE_RESERVATION = (
    "UPDATE inventory_reservations SET status = :status, updated_at = :updated_at"
    " WHERE order_id = :order_id"
)


class SqlStockRepository:
    def __init__(self, sql: Sql) -> None:
        self._sql = sql

    async def get_many(self, skus: list[str], *, lock: bool = False) -> dict[str, StockItem]:
        if not skus:
            return {}
        placeholders, params = in_list("sku", sorted(skus))
        query = (
            f"SELECT sku, on_hand, reserved FROM inventory_stock WHERE sku IN ({placeholders})"
            " ORDER BY sku" + (self._sql.for_update if lock else "")
        )
        rows = await self._sql.all(query, params)
        return {row.sku: StockItem(row.sku, row.on_hand, row.reserved) for row in rows}

    async def get(self, sku: str, *, lock: bool = False) -> StockItem | None:
        return (await self.get_many([sku], lock=lock)).get(sku)

    async def add(self, item: StockItem) -> None:
        await self._sql.execute(
            ADD_STOCK, {"sku": item.sku, "on_hand": item.on_hand, "reserved": item.reserved}
        )

    async def save(self, items: list[StockItem]) -> None:
        await self._sql.execute_many(
            SAVE_STOCK,
            [{"sku": i.sku, "on_hand": i.on_hand, "reserved": i.reserved} for i in items],
        )


class SqlReservationRepository:
    def __init__(self, sql: Sql) -> None:
        self._sql = sql

    async def get(self, order_id: str) -> Reservation | None:
        row = await self._sql.one(RESERVATION, {"order_id": order_id})
        if row is None:
            return None
        return Reservation(row.order_id, dict(from_json(row.lines)), ReservationStatus(row.status))

    async def add(self, reservation: Reservation) -> None:
        await self._sql.execute(
            ADD_RESERVATION,
            {
                "order_id": reservation.order_id,
                "status": reservation.status.value,
                "lines": json_text(reservation.lines),
                "updated_at": datetime.now(UTC),
            },
        )

    async def save(self, reservation: Reservation) -> None:
        await self._sql.execute(
            SAVE_RESERVATION,
            {
                "order_id": reservation.order_id,
                "status": reservation.status.value,
                "updated_at": datetime.now(UTC),
            },
        )
