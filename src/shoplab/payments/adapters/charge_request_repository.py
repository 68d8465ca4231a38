"""Charge requests in SQL: payments' own record of the events a charge waits for."""

from datetime import UTC, datetime

from shoplab.payments.domain.charge_request import ChargeRequest, ChargeTerms
from shoplab.platform.persistence.sql import Sql

CHARGE_REQUEST = (
    "SELECT order_id, amount_cents, currency, method, stock_reserved, charge_taken"
    " FROM payments_charge_requests WHERE order_id = :order_id"
)
ADD_CHARGE_REQUEST = (
    "INSERT INTO payments_charge_requests (order_id, amount_cents, currency, method,"
    " stock_reserved, charge_taken, updated_at) VALUES (:order_id, :amount_cents, :currency,"
    " :method, :stock_reserved, :charge_taken, :updated_at)"
)
SAVE_CHARGE_REQUEST = (
    "UPDATE payments_charge_requests SET amount_cents = :amount_cents, currency = :currency,"
    " method = :method, stock_reserved = :stock_reserved, charge_taken = :charge_taken,"
    " updated_at = :updated_at WHERE order_id = :order_id"
)


class SqlChargeRequests:
    def __init__(self, sql: Sql) -> None:
        self._sql = sql

    async def get(self, order_id: str, *, lock: bool = False) -> ChargeRequest | None:
        query = CHARGE_REQUEST + (self._sql.for_update if lock else "")
        row = await self._sql.one(query, {"order_id": order_id})
        if row is None:
            return None
        terms = (
            ChargeTerms(row.amount_cents, row.currency, row.method)
            if row.amount_cents is not None
            else None
        )
        return ChargeRequest(row.order_id, terms, bool(row.stock_reserved), bool(row.charge_taken))

    async def add(self, request: ChargeRequest) -> None:
        """Two first events of one order racing to add it: the primary key refuses one,
        whose transaction rolls back and is delivered again, then finds the row."""
        await self._sql.execute(ADD_CHARGE_REQUEST, _columns(request))

    async def save(self, request: ChargeRequest) -> None:
        await self._sql.execute(SAVE_CHARGE_REQUEST, _columns(request))


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
