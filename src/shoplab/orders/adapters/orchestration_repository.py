"""Saga state in SQL: one row per order, its history as a JSON list."""

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from shoplab.orders.adapters.tables import sagas
from shoplab.orders.domain.model import Reason
from shoplab.orders.domain.orchestration import OrchestratedSaga
from shoplab.orders.domain.saga import SagaState, StepRecord
from shoplab.platform.time import utc


class SqlOrchestrationRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def get(self, order_id: str, *, lock: bool = False) -> OrchestratedSaga | None:
        query = select(sagas).where(sagas.c.order_id == order_id)
        if lock:
            query = query.with_for_update()
        row = (await self._session.execute(query)).first()
        if row is None:
            return None
        return OrchestratedSaga(
            order_id=row.order_id,
            payment_method=row.payment_method,
            state=SagaState(row.state),
            attempts=row.attempts,
            deadline=utc(row.deadline_at) if row.deadline_at else None,
            reason=Reason(row.reason) if row.reason else None,
            void_pending=row.void_pending,
            history=[
                StepRecord(item["name"], item["status"], datetime.fromisoformat(item["at"]))
                for item in row.history
            ],
        )

    async def add(self, saga: OrchestratedSaga) -> None:
        await self._session.execute(insert(sagas), {"order_id": saga.order_id, **_columns(saga)})

    async def save(self, saga: OrchestratedSaga) -> None:
        await self._session.execute(
            update(sagas).where(sagas.c.order_id == saga.order_id).values(**_columns(saga))
        )

    async def overdue(self, now: datetime, limit: int) -> list[str]:
        """Orders whose saga waits for an answer past its deadline, oldest deadline first."""
        result = await self._session.execute(
            select(sagas.c.order_id)
            .where(sagas.c.deadline_at <= now)
            .order_by(sagas.c.deadline_at)
            .limit(limit)
        )
        return list(result.scalars())


def _columns(saga: OrchestratedSaga) -> dict[str, Any]:
    return {
        "state": saga.state.value,
        "payment_method": saga.payment_method,
        "attempts": saga.attempts,
        "deadline_at": saga.deadline,
        "reason": saga.reason.value if saga.reason else None,
        "void_pending": saga.void_pending,
        "history": [
            {"name": r.name, "status": r.status, "at": r.at.astimezone(UTC).isoformat()}
            for r in saga.history
        ],
        "updated_at": datetime.now(UTC),
    }
