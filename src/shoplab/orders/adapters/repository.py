"""Orders and idempotency keys in SQL."""

from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import insert, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from shoplab.orders.adapters.tables import idempotency_keys, order_lines, orders
from shoplab.orders.domain.model import Order, OrderLine, OrderStatus, Reason
from shoplab.platform.time import utc


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


class SqlOrderRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def get(self, order_id: str, *, lock: bool = False) -> Order | None:
        query = select(orders).where(orders.c.order_id == order_id)
        if lock:
            query = query.with_for_update()
        row = (await self._session.execute(query)).first()
        if row is None:
            return None
        lines = await self._session.execute(
            select(order_lines)
            .where(order_lines.c.order_id == order_id)
            .order_by(order_lines.c.sku)
        )
        return Order(
            order_id=row.order_id,
            customer_id=row.customer_id,
            lines=[OrderLine(line.sku, line.quantity, line.unit_price_cents) for line in lines],
            currency=row.currency,
            created_at=utc(row.created_at),
            updated_at=utc(row.updated_at),
            status=OrderStatus(row.status),
            reason=Reason(row.reason) if row.reason else None,
        )

    async def add(self, order: Order) -> None:
        await self._session.execute(insert(orders), _order_columns(order))
        await self._session.execute(
            insert(order_lines),
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
        await self._session.execute(
            update(orders)
            .where(orders.c.order_id == order.order_id)
            .values(status=order.status.value, reason=_reason(order), updated_at=order.updated_at)
        )

    async def summaries_for(self, customer_id: str, limit: int) -> list[OrderSummary]:
        """The customer's newest orders as the list shows them: no lines, stored totals."""
        rows = await self._session.execute(
            select(orders)
            .where(orders.c.customer_id == customer_id)
            .order_by(orders.c.created_at.desc(), orders.c.order_id.desc())
            .limit(limit)
        )
        return [
            OrderSummary(
                order_id=row.order_id,
                status=row.status,
                reason=row.reason,
                total_cents=row.total_cents,
                currency=row.currency,
                created_at=utc(row.created_at),
                updated_at=utc(row.updated_at),
            )
            for row in rows
        ]


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


class SqlIdempotencyKeys:
    """``Idempotency-Key`` per customer: the first request to claim a key wins.

    The claim is an insert that does nothing on conflict. Under PostgreSQL a
    concurrent claim of the same key waits for the first transaction to end,
    then reads its row; under SQLite transactions are serialized anyway.
    """

    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def claim(
        self, customer_id: str, key: str, fingerprint: str, order_id: str
    ) -> ClaimedKey:
        """Claim ``key`` for ``order_id``; returns whoever holds it (maybe an earlier order)."""
        dialect = postgresql if self._session.get_bind().dialect.name == "postgresql" else sqlite
        await self._session.execute(
            dialect.insert(idempotency_keys)
            .values(
                customer_id=customer_id,
                key=key,
                fingerprint=fingerprint,
                order_id=order_id,
                created_at=datetime.now(UTC),
            )
            .on_conflict_do_nothing()
        )
        row = (
            await self._session.execute(
                select(idempotency_keys.c.order_id, idempotency_keys.c.fingerprint).where(
                    idempotency_keys.c.customer_id == customer_id, idempotency_keys.c.key == key
                )
            )
        ).one()
        return ClaimedKey(row.order_id, row.fingerprint)
