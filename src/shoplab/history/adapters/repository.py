"""The view and the positions in SQL."""

from dataclasses import asdict
from datetime import datetime

from sqlalchemy import delete, insert, select, update
from sqlalchemy.engine import Row
from sqlalchemy.ext.asyncio import AsyncSession

from shoplab.history.adapters.tables import orders, positions
from shoplab.history.domain.model import OrderHistory, Status
from shoplab.platform.time import utc


class SqlHistoryView:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def get(self, order_id: str) -> OrderHistory | None:
        row = await self._session.execute(select(orders).where(orders.c.order_id == order_id))
        found = row.first()
        return _entry(found) if found else None

    async def put(self, entry: OrderHistory, *, new: bool) -> None:
        values = asdict(entry)
        values["status"] = entry.status.value
        values["notifications"] = ",".join(sorted(entry.notifications))
        if new:
            await self._session.execute(insert(orders), values)
        else:
            await self._session.execute(
                update(orders).where(orders.c.order_id == entry.order_id).values(**values)
            )

    async def listed_for(self, customer_id: str, limit: int) -> list[OrderHistory]:
        """The customer's newest placed orders, as ``GET /api/orders`` orders them."""
        rows = await self._session.execute(
            select(orders)
            .where(orders.c.customer_id == customer_id, orders.c.created_at.is_not(None))
            .order_by(orders.c.created_at.desc(), orders.c.order_id.desc())
            .limit(limit)
        )
        return [_entry(row) for row in rows]

    async def everything(self) -> list[OrderHistory]:
        rows = await self._session.execute(select(orders).order_by(orders.c.order_id))
        return [_entry(row) for row in rows]

    async def clear(self) -> None:
        await self._session.execute(delete(orders))


class SqlPositions:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def get(self, source: str) -> int:
        found = await self._session.execute(
            select(positions.c.position).where(positions.c.source == source)
        )
        return found.scalar_one_or_none() or 0

    async def all(self) -> dict[str, tuple[int, datetime]]:
        rows = await self._session.execute(select(positions))
        return {row.source: (row.position, utc(row.stored_at)) for row in rows}

    async def advance(self, source: str, position: int, stored_at: datetime) -> None:
        moved = await self._session.execute(
            update(positions)
            .where(positions.c.source == source)
            .values(position=position, stored_at=stored_at)
        )
        if not moved.rowcount:  # type: ignore[attr-defined]
            await self._session.execute(
                insert(positions).values(source=source, position=position, stored_at=stored_at)
            )

    async def clear(self) -> None:
        await self._session.execute(delete(positions))


def _entry(row: Row) -> OrderHistory:  # type: ignore[type-arg]
    return OrderHistory(
        order_id=row.order_id,
        customer_id=row.customer_id,
        status=Status(row.status),
        reason=row.reason,
        total_cents=row.total_cents,
        currency=row.currency,
        created_at=utc(row.created_at) if row.created_at else None,
        updated_at=utc(row.updated_at) if row.updated_at else None,
        charged_cents=row.charged_cents,
        refunded_cents=row.refunded_cents,
        payment_failure=row.payment_failure,
        notifications=frozenset(filter(None, row.notifications.split(","))),
    )
