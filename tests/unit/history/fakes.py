"""History's ports in memory: its unit of work (the view and the positions) and an event log."""

import asyncio
import dataclasses
from collections.abc import AsyncIterator
from datetime import UTC, datetime

from shoplab.contracts.envelope import Envelope, Message
from shoplab.history.domain.model import OrderHistory
from shoplab.history.service_layer.unit_of_work import HistoryUnitOfWork, HistoryView, Positions
from shoplab.platform.messaging.event_log import EventLog, LoggedEvent, LogHead

from ..fakes import FakeRepository, FakeUnitOfWork

CAUGHT_UP_TRIES = 1_000


class FakeHistoryView(FakeRepository[OrderHistory], HistoryView):
    async def get(self, order_id: str) -> OrderHistory | None:
        return self._get(order_id)

    async def put(self, entry: OrderHistory, *, new: bool) -> None:
        if new:
            self._insert(entry.order_id, entry)
        else:
            self._update(entry.order_id, entry)

    async def listed_for(self, customer_id: str, limit: int) -> list[OrderHistory]:
        listed = [e for e in self._all() if e.customer_id == customer_id and e.created_at]
        listed.sort(key=lambda entry: (entry.created_at, entry.order_id), reverse=True)
        return listed[:limit]

    async def everything(self) -> list[OrderHistory]:
        return sorted(self._all(), key=lambda entry: entry.order_id)

    async def clear(self) -> None:
        self.rows.clear()


class FakePositions(FakeRepository[tuple[int, datetime]], Positions):
    async def get(self, source: str) -> int:
        stored = self.rows.get(source)
        return stored[0] if stored else 0

    async def all(self) -> dict[str, tuple[int, datetime]]:
        return dict(self.rows)

    async def advance(self, source: str, position: int, stored_at: datetime) -> None:
        self.rows[source] = (position, stored_at)

    async def clear(self) -> None:
        self.rows.clear()


class FakeHistoryUnitOfWork(FakeUnitOfWork, HistoryUnitOfWork):
    view: FakeHistoryView
    positions: FakePositions

    def __init__(self) -> None:
        self.view = FakeHistoryView()
        self.positions = FakePositions()
        super().__init__(self.view, self.positions)


class FakeEventLog(EventLog):
    """Each source's events in a list. A reader gets those after its position, then waits
    for more, as a log's reader does; ``caught_up`` tells when every reader waits."""

    def __init__(self) -> None:
        self.events: dict[str, list[LoggedEvent]] = {}
        self.waiting_after: dict[str, int] = {}
        self._appended = asyncio.Event()

    def append(self, source: str, message: Message) -> LoggedEvent:
        kept = self.events.setdefault(source, [])
        event = LoggedEvent(source, len(kept) + 1, datetime.now(UTC), Envelope.wrap(message), 0)
        kept.append(event)
        self._appended.set()
        self._appended = asyncio.Event()
        return event

    async def start(self) -> None:
        pass

    async def stop(self) -> None:
        pass

    async def read(self, source: str, after: int) -> AsyncIterator[LoggedEvent]:
        position = after
        try:
            while True:
                kept = self.events.get(source, [])
                for event in [event for event in kept if event.position > position]:
                    yield dataclasses.replace(event, pending=len(kept) - event.position)
                    position = event.position
                self.waiting_after[source] = position
                await self._appended.wait()
        finally:  # a reader stopped (a rebuild): its successor has read nothing yet
            self.waiting_after.pop(source, None)

    async def head(self, source: str) -> LogHead | None:
        kept = self.events.get(source)
        return LogHead(kept[-1].position, kept[-1].stored_at) if kept else None

    async def caught_up(self, *sources: str) -> None:
        """Return once the reader of every source waits after that source's last event."""
        for _ in range(CAUGHT_UP_TRIES):
            if all(self.waiting_after.get(s) == len(self.events.get(s, [])) for s in sources):
                return
            await asyncio.sleep(0)
        raise AssertionError(f"the readers did not catch up: {self.waiting_after}")
