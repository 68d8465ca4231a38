"""The orders service's view of choreographed sagas, in SQL: one row per order."""

from datetime import UTC, datetime
from typing import Any

from shoplab.orders.domain.choreography import ChoreographedSaga, Fact
from shoplab.orders.domain.model import OrderStatus
from shoplab.orders.domain.saga import StepRecord
from shoplab.platform.persistence.sql import Sql, from_json, json_text

CHOREOGRAPHY = (
    "SELECT order_id, facts, outcome, history FROM orders_choreographies WHERE order_id = :order_id"
)
ADD_CHOREOGRAPHY = (
    "INSERT INTO orders_choreographies (order_id, state, outcome, facts, history, updated_at)"
    " VALUES (:order_id, :state, :outcome, :facts, :history, :updated_at)"
)
SAVE_CHOREOGRAPHY = (
    "UPDATE orders_choreographies SET state = :state, outcome = :outcome, facts = :facts,"
    " history = :history, updated_at = :updated_at WHERE order_id = :order_id"
)


class SqlChoreographyRepository:
    def __init__(self, sql: Sql) -> None:
        self._sql = sql

    async def get(self, order_id: str, *, lock: bool = False) -> ChoreographedSaga | None:
        query = CHOREOGRAPHY + (self._sql.for_update if lock else "")
        row = await self._sql.one(query, {"order_id": order_id})
        if row is None:
            return None
        return ChoreographedSaga(
            order_id=row.order_id,
            facts={Fact(name) for name in from_json(row.facts)},
            outcome=OrderStatus(row.outcome) if row.outcome else None,
            history=[
                StepRecord(item["name"], item["status"], datetime.fromisoformat(item["at"]))
                for item in from_json(row.history)
            ],
        )

    async def add(self, saga: ChoreographedSaga) -> None:
        await self._sql.execute(ADD_CHOREOGRAPHY, _columns(saga))

    async def save(self, saga: ChoreographedSaga) -> None:
        await self._sql.execute(SAVE_CHOREOGRAPHY, _columns(saga))


def _columns(saga: ChoreographedSaga) -> dict[str, Any]:
    return {
        "order_id": saga.order_id,
        "state": saga.state.value,
        "outcome": saga.outcome.value if saga.outcome else None,
        "facts": json_text(sorted(fact.value for fact in saga.facts)),
        "history": json_text(
            [
                {"name": r.name, "status": r.status, "at": r.at.astimezone(UTC).isoformat()}
                for r in saga.history
            ]
        ),
        "updated_at": datetime.now(UTC),
    }
