"""The view and the positions in SQL."""

from dataclasses import asdict
from datetime import datetime

from shoplab.history.domain.model import OrderHistory, Status
from shoplab.platform.persistence.sql import Row, Sql

COLUMNS = (
    "order_id, customer_id, status, reason, total_cents, currency, created_at, updated_at,"
    " charged_cents, refunded_cents, payment_failure, notifications"
)
ENTRY = f"SELECT {COLUMNS} FROM history_orders WHERE order_id = :order_id"
ADD_ENTRY = (
    f"INSERT INTO history_orders ({COLUMNS}) VALUES (:order_id, :customer_id, :status,"
    " :reason, :total_cents, :currency, :created_at, :updated_at, :charged_cents,"
    " :refunded_cents, :payment_failure, :notifications)"
)
SAVE_ENTRY = (
    "UPDATE history_orders SET customer_id = :customer_id, status = :status, reason = :reason,"
    " total_cents = :total_cents, currency = :currency, created_at = :created_at,"
    " updated_at = :updated_at, charged_cents = :charged_cents,"
    " refunded_cents = :refunded_cents, payment_failure = :payment_failure,"
    " notifications = :notifications WHERE order_id = :order_id"
)
LISTED_FOR = (
    f"SELECT {COLUMNS} FROM history_orders"
    " WHERE customer_id = :customer_id AND created_at IS NOT NULL"
    " ORDER BY created_at DESC, order_id DESC LIMIT :limit"
)
EVERYTHING = f"SELECT {COLUMNS} FROM history_orders ORDER BY order_id"
POSITION = "SELECT position FROM history_positions WHERE source = :source"
ALL_POSITIONS = "SELECT source, position, stored_at FROM history_positions"
MOVE_POSITION = (
    "UPDATE history_positions SET position = :position, stored_at = :stored_at"
    " WHERE source = :source"
)
ADD_POSITION = (
    "INSERT INTO history_positions (source, position, stored_at)"
    " VALUES (:source, :position, :stored_at)"
)


class SqlHistoryView:
    def __init__(self, sql: Sql) -> None:
        self._sql = sql

    async def get(self, order_id: str) -> OrderHistory | None:
        found = await self._sql.one(ENTRY, {"order_id": order_id})
        return _entry(found) if found else None

    async def put(self, entry: OrderHistory, *, new: bool) -> None:
        values = asdict(entry)
        values["status"] = entry.status.value
        values["notifications"] = ",".join(sorted(entry.notifications))
        await self._sql.execute(ADD_ENTRY if new else SAVE_ENTRY, values)

    async def listed_for(self, customer_id: str, limit: int) -> list[OrderHistory]:
        """The customer's newest placed orders, as ``GET /api/orders`` orders them."""
        rows = await self._sql.all(LISTED_FOR, {"customer_id": customer_id, "limit": limit})
        return [_entry(row) for row in rows]

    async def everything(self) -> list[OrderHistory]:
        return [_entry(row) for row in await self._sql.all(EVERYTHING)]

    async def clear(self) -> None:
        await self._sql.execute("DELETE FROM history_orders")


class SqlPositions:
    def __init__(self, sql: Sql) -> None:
        self._sql = sql

    async def get(self, source: str) -> int:
        found = await self._sql.one(POSITION, {"source": source})
        return int(found.position) if found else 0

    async def all(self) -> dict[str, tuple[int, datetime]]:
        rows = await self._sql.all(ALL_POSITIONS)
        return {row.source: (row.position, row.stored_at) for row in rows}

    async def advance(self, source: str, position: int, stored_at: datetime) -> None:
        values = {"source": source, "position": position, "stored_at": stored_at}
        if not await self._sql.execute(MOVE_POSITION, values):
            await self._sql.execute(ADD_POSITION, values)

    async def clear(self) -> None:
        await self._sql.execute("DELETE FROM history_positions")


def _entry(row: Row) -> OrderHistory:
    return OrderHistory(
        order_id=row.order_id,
        customer_id=row.customer_id,
        status=Status(row.status),
        reason=row.reason,
        total_cents=row.total_cents,
        currency=row.currency,
        created_at=row.created_at,
        updated_at=row.updated_at,
        charged_cents=row.charged_cents,
        refunded_cents=row.refunded_cents,
        payment_failure=row.payment_failure,
        notifications=frozenset(filter(None, row.notifications.split(","))),
    )
