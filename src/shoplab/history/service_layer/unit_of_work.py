"""The history unit of work: the ports of its storage, and their SQL implementation.

The use cases see ``HistoryUnitOfWork``: the view and the positions it has read
up to, which change in one transaction. ``SqlHistoryUnitOfWork`` implements it.
"""

from datetime import datetime
from typing import Protocol

from shoplab.history.adapters.repository import SqlHistoryView, SqlPositions
from shoplab.history.domain.model import OrderHistory
from shoplab.platform.persistence.sql import Sql
from shoplab.platform.persistence.unit_of_work import SqlUnitOfWork, UnitOfWork


class HistoryView(Protocol):
    async def get(self, order_id: str) -> OrderHistory | None: ...

    async def put(self, entry: OrderHistory, *, new: bool) -> None:
        """Store ``entry``: added when ``new``, replacing the stored one otherwise."""
        ...

    async def listed_for(self, customer_id: str, limit: int) -> list[OrderHistory]:
        """The customer's newest placed orders, newest first."""
        ...

    async def everything(self) -> list[OrderHistory]:
        """Every entry, by order id."""
        ...

    async def clear(self) -> None: ...


class Positions(Protocol):
    async def get(self, source: str) -> int:
        """The last position of ``source`` applied to the view (0: none)."""
        ...

    async def all(self) -> dict[str, tuple[int, datetime]]:
        """Each source's position, and when the log stored the event there."""
        ...

    async def advance(self, source: str, position: int, stored_at: datetime) -> None: ...

    async def clear(self) -> None: ...


class HistoryUnitOfWork(UnitOfWork, Protocol):
    view: HistoryView
    positions: Positions


class SqlHistoryUnitOfWork(SqlUnitOfWork, HistoryUnitOfWork):
    view: SqlHistoryView
    positions: SqlPositions

    def bind(self, sql: Sql) -> None:
        self.view = SqlHistoryView(sql)
        self.positions = SqlPositions(sql)
