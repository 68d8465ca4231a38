"""Saga state in SQL: one row per order, its history and its quantities as JSON."""

from datetime import UTC, datetime
from typing import Any

from shoplab.orders.domain.model import Reason
from shoplab.orders.domain.orchestration import OrchestratedSaga, OrderTerms
from shoplab.orders.domain.saga import SagaState, StepRecord
from shoplab.platform.persistence.sql import Row, Sql, from_json, json_text

SAGA = (
    "SELECT order_id, payment_method, state, attempts, deadline_at, reason, void_pending,"
    " history, quantities, amount_cents, currency FROM orders_sagas WHERE order_id = :order_id"
)
ADD_SAGA = (
    "INSERT INTO orders_sagas (order_id, state, payment_method, attempts, deadline_at, reason,"
    " void_pending, history, updated_at, quantities, amount_cents, currency)"
    " VALUES (:order_id, :state, :payment_method, :attempts, :deadline_at, :reason,"
    " :void_pending, :history, :updated_at, :quantities, :amount_cents, :currency)"
)
SAVE_SAGA = (
    "UPDATE orders_sagas SET state = :state, payment_method = :payment_method,"
    " attempts = :attempts, deadline_at = :deadline_at, reason = :reason,"
    " void_pending = :void_pending, history = :history, updated_at = :updated_at,"
    " quantities = :quantities, amount_cents = :amount_cents, currency = :currency"
    " WHERE order_id = :order_id"
)
OVERDUE = (
    "SELECT order_id FROM orders_sagas WHERE deadline_at <= :now ORDER BY deadline_at LIMIT :limit"
)


class SqlOrchestrationRepository:
    def __init__(self, sql: Sql) -> None:
        self._sql = sql

    async def get(self, order_id: str, *, lock: bool = False) -> OrchestratedSaga | None:
        query = SAGA + (self._sql.for_update if lock else "")
        row = await self._sql.one(query, {"order_id": order_id})
        if row is None:
            return None
        return OrchestratedSaga(
            order_id=row.order_id,
            payment_method=row.payment_method,
            state=SagaState(row.state),
            attempts=row.attempts,
            deadline=row.deadline_at,
            reason=Reason(row.reason) if row.reason else None,
            void_pending=bool(row.void_pending),
            history=[
                StepRecord(item["name"], item["status"], datetime.fromisoformat(item["at"]))
                for item in from_json(row.history)
            ],
            terms=_terms(row),
        )

    async def add(self, saga: OrchestratedSaga) -> None:
        await self._sql.execute(ADD_SAGA, _columns(saga))

    async def save(self, saga: OrchestratedSaga) -> None:
        await self._sql.execute(SAVE_SAGA, _columns(saga))

    async def overdue(self, now: datetime, limit: int) -> list[str]:
        """Orders whose saga waits for an answer past its deadline, oldest deadline first."""
        rows = await self._sql.all(OVERDUE, {"now": now, "limit": limit})
        return [row.order_id for row in rows]


def _terms(row: Row) -> OrderTerms | None:
    """The saga's terms; ``None`` in a row written before sagas kept them."""
    if row.amount_cents is None or row.currency is None or row.quantities is None:
        return None
    return OrderTerms(from_json(row.quantities), row.amount_cents, row.currency)


def _columns(saga: OrchestratedSaga) -> dict[str, Any]:
    terms = saga.terms
    return {
        "order_id": saga.order_id,
        "state": saga.state.value,
        "payment_method": saga.payment_method,
        "attempts": saga.attempts,
        "deadline_at": saga.deadline,
        "reason": saga.reason.value if saga.reason else None,
        "void_pending": saga.void_pending,
        "history": json_text(
            [
                {"name": r.name, "status": r.status, "at": r.at.astimezone(UTC).isoformat()}
                for r in saga.history
            ]
        ),
        "updated_at": datetime.now(UTC),
        "quantities": json_text(terms.quantities) if terms else None,
        "amount_cents": terms.amount_cents if terms else None,
        "currency": terms.currency if terms else None,
    }
