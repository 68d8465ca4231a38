"""The orders service's view of choreographed sagas, in SQL: one row per order."""

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from shoplab.orders.adapters.tables import choreographies
from shoplab.orders.domain.choreography import ChoreographedSaga, Fact
from shoplab.orders.domain.model import OrderStatus
from shoplab.orders.domain.saga import StepRecord


class SqlChoreographyRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def get(self, order_id: str, *, lock: bool = False) -> ChoreographedSaga | None:
        query = select(choreographies).where(choreographies.c.order_id == order_id)
        if lock:
            query = query.with_for_update()
        row = (await self._session.execute(query)).first()
        if row is None:
            return None
        return ChoreographedSaga(
            order_id=row.order_id,
            facts={Fact(name) for name in row.facts},
            outcome=OrderStatus(row.outcome) if row.outcome else None,
            history=[
                StepRecord(item["name"], item["status"], datetime.fromisoformat(item["at"]))
                for item in row.history
            ],
        )

    async def add(self, saga: ChoreographedSaga) -> None:
        await self._session.execute(
            insert(choreographies), {"order_id": saga.order_id, **_columns(saga)}
        )

    async def save(self, saga: ChoreographedSaga) -> None:
        await self._session.execute(
            update(choreographies)
            .where(choreographies.c.order_id == saga.order_id)
            .values(**_columns(saga))
        )


def _columns(saga: ChoreographedSaga) -> dict[str, Any]:
    return {
        "state": saga.state.value,
        "outcome": saga.outcome.value if saga.outcome else None,
        "facts": sorted(fact.value for fact in saga.facts),
        "history": [
            {"name": r.name, "status": r.status, "at": r.at.astimezone(UTC).isoformat()}
            for r in saga.history
        ],
        "updated_at": datetime.now(UTC),
    }
