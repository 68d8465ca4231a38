"""Orders and idempotency keys in SQL."""

from dataclasses import dataclass
from datetime import UTC, datetime

from shoplab.orders.domain.model import Order, OrderLine, OrderStatus, Reason
from shoplab.platform.persistence.sql import Sql


@dataclass(frozen=True)
class OrderSummary:
    """A row of a customer's order list: a read model, not the aggregate."""

    order_id: str
    status: str
    reason: str | None
    total_cents: int
    currency: str
    created_at: datetime
    updated_at: datetime


ORDER = (
    "SELECT order_id, customer_id, status, reason, currency, created_at, updated_at"
    " FROM orders_orders WHERE order_id = :order_id"
)
STATUS = "SELECT status FROM orders_orders WHERE order_id = :order_id"
LINES = (
    "SELECT sku, quantity, unit_price_cents FROM orders_lines"
    " WHERE order_id = :order_id ORDER BY sku"
)
ADD_ORDER = (
    "INSERT INTO orders_orders (order_id, customer_id, status, reason, currency, total_cents,"
    " created_at, updated_at) VALUES (:order_id, :customer_id, :status, :reason, :currency,"
    " :total_cents, :created_at, :updated_at)"
)
ADD_LINE = (
    "INSERT INTO orders_lines (order_id, sku, quantity, unit_price_cents)"
    " VALUES (:order_id, :sku, :quantity, :unit_price_cents)"
)
SAVE_ORDER = (
    "UPDATE orders_orders SET status = :status, reason = :reason, updated_at = :updated_at"
    " WHERE order_id = :order_id"
)
SUMMARIES = (
    "SELECT order_id, status, reason, total_cents, currency, created_at, updated_at"
    " FROM orders_orders WHERE customer_id = :customer_id"
    " ORDER BY created_at DESC, order_id DESC LIMIT :limit"
)

PENDING = "SELECT count(*) AS pending FROM orders_orders WHERE status = 'PENDING'"


class SqlOrderRepository:
    def __init__(self, sql: Sql) -> None:
        self._sql = sql

    async def get(self, order_id: str, *, lock: bool = False) -> Order | None:
        query = ORDER + (self._sql.for_update if lock else "")
        row = await self._sql.one(query, {"order_id": order_id})
        if row is None:
            return None
        lines = await self._sql.all(LINES, {"order_id": order_id})
        return Order(
            order_id=row.order_id,
            customer_id=row.customer_id,
            lines=[OrderLine(line.sku, line.quantity, line.unit_price_cents) for line in lines],
            currency=row.currency,
            created_at=row.created_at,
            updated_at=row.updated_at,
            status=OrderStatus(row.status),
            reason=Reason(row.reason) if row.reason else None,
        )

    async def lock(self, order_id: str) -> OrderStatus | None:
        """Lock the order's row alone, without reading its lines; its status, if it exists."""
        row = await self._sql.one(STATUS + self._sql.for_update, {"order_id": order_id})
        return OrderStatus(row.status) if row is not None else None

    async def add(self, order: Order) -> None:
        await self._sql.execute(ADD_ORDER, _order_columns(order))
        await self._sql.execute_many(
            ADD_LINE,
            [
                {
                    "order_id": order.order_id,
                    "sku": line.sku,
                    "quantity": line.quantity,
                    "unit_price_cents": line.unit_price_cents,
                }
                for line in order.lines
            ],
        )

    async def save(self, order: Order) -> None:
        await self._sql.execute(
            SAVE_ORDER,
            {
                "order_id": order.order_id,
                "status": order.status.value,
                "reason": _reason(order),
                "updated_at": order.updated_at,
            },
        )

    async def pending(self) -> int:
        row = await self._sql.one(PENDING)
        return int(row.pending) if row is not None else 0

    async def summaries_for(self, customer_id: str, limit: int) -> list[OrderSummary]:
        """The customer's newest orders as the list shows them: no lines, stored totals."""
        rows = await self._sql.all(SUMMARIES, {"customer_id": customer_id, "limit": limit})
        return [OrderSummary(*row) for row in rows]


def _reason(order: Order) -> str | None:
    return order.reason.value if order.reason else None


def _order_columns(order: Order) -> dict[str, object]:
    return {
        "order_id": order.order_id,
        "customer_id": order.customer_id,
        "status": order.status.value,
        "reason": _reason(order),
        "currency": order.currency,
        "total_cents": order.total_cents,
        "created_at": order.created_at,
        "updated_at": order.updated_at,
    }


@dataclass(frozen=True)
class ClaimedKey:
    order_id: str
    fingerprint: str


CLAIM_KEY = (
    "INSERT INTO orders_idempotency_keys (customer_id, key, fingerprint, order_id, created_at)"
    " VALUES (:customer_id, :key, :fingerprint, :order_id, :now) ON CONFLICT DO NOTHING"
)
KEY_HOLDER = (
    "SELECT order_id, fingerprint FROM orders_idempotency_keys"
    " WHERE customer_id = :customer_id AND key = :key"
)


class SqlIdempotencyKeys:
    """``Idempotency-Key`` per customer: the first request to claim a key wins.

    The claim is an insert that does nothing on conflict. Under PostgreSQL a
    concurrent claim of the same key waits for the first transaction to end,
    then reads its row; under SQLite transactions are serialized anyway.
    """

    def __init__(self, sql: Sql) -> None:
        self._sql = sql

    async def claim(
        self, customer_id: str, key: str, fingerprint: str, order_id: str
    ) -> ClaimedKey:
        """Claim ``key`` for ``order_id``; returns whoever holds it (maybe an earlier order)."""
        claimed = await self._sql.execute(
            CLAIM_KEY,
            {
                "customer_id": customer_id,
                "key": key,
                "fingerprint": fingerprint,
                "order_id": order_id,
                "now": datetime.now(UTC),
            },
        )
        if claimed:
            return ClaimedKey(order_id, fingerprint)
        holder = await self.holder(customer_id, key)
        assert holder is not None, "a claim that inserted nothing found a row"
        return holder

    async def holder(self, customer_id: str, key: str) -> ClaimedKey | None:
        """Who holds ``key``, if anyone."""
        row = await self._sql.one(KEY_HOLDER, {"customer_id": customer_id, "key": key})
        return ClaimedKey(row.order_id, row.fingerprint) if row else None
