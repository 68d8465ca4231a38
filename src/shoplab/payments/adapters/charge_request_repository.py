"""Charge requests in SQL: payments' own record of the events a charge waits for."""

from datetime import UTC, datetime

from sqlalchemy import insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from shoplab.payments.adapters.tables import charge_requests
from shoplab.payments.domain.charge_request import ChargeRequest, ChargeTerms


class SqlChargeRequests:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def get(self, order_id: str, *, lock: bool = False) -> ChargeRequest | None:
        query = select(charge_requests).where(charge_requests.c.order_id == order_id)
        if lock:
            query = query.with_for_update()
        row = (await self._session.execute(query)).first()
        if row is None:
            return None
        terms = (
            ChargeTerms(row.amount_cents, row.currency, row.method)
            if row.amount_cents is not None
            else None
        )
        return ChargeRequest(row.order_id, terms, row.stock_reserved, row.charge_taken)

    async def add(self, request: ChargeRequest) -> None:
        """Two first events of one order racing to add it: the primary key refuses one,
        whose transaction rolls back and is delivered again, then finds the row."""
        await self._session.execute(insert(charge_requests), _columns(request))

    async def save(self, request: ChargeRequest) -> None:
        await self._session.execute(
            update(charge_requests)
            .where(charge_requests.c.order_id == request.order_id)
            .values(**_columns(request))
        )


def _columns(request: ChargeRequest) -> dict[str, object]:
    terms = request.terms
    return {
        "order_id": request.order_id,
        "amount_cents": terms.amount_cents if terms else None,
        "currency": terms.currency if terms else None,
        "method": terms.method if terms else None,
        "stock_reserved": request.stock_reserved,
        "charge_taken": request.charge_taken,
        "updated_at": datetime.now(UTC),
    }
