"""The history unit of work: the view and the positions change in one transaction."""

from sqlalchemy.ext.asyncio import AsyncSession

from shoplab.history.adapters.repository import SqlHistoryView, SqlPositions
from shoplab.platform.persistence.unit_of_work import SqlUnitOfWork


class HistoryUnitOfWork(SqlUnitOfWork):
    view: SqlHistoryView
    positions: SqlPositions

    def bind(self, session: AsyncSession) -> None:
        self.view = SqlHistoryView(session)
        self.positions = SqlPositions(session)
