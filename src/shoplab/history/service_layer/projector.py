"""The projector: follows each source's log into the view, one writer for the whole view.

Each source (orders, payments, notifications) is read by its own follower from
the position stored for it. A batch of events is applied in one transaction that
also stores the new position, so a crash at any point either keeps the batch and
its position or neither: on restart the follower reads again after the stored
position, and the view sees every event exactly once without an inbox. Events at
or before the stored position (a reader that overlapped another) change nothing.

The sources interleave at their own pace; the domain rules commute, so the view
does not depend on which source ran ahead.
"""

import asyncio
import contextlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime

import structlog
from pydantic import ValidationError

from shoplab.history.domain.model import Fact, OrderHistory, apply
from shoplab.history.service_layer.facts import SOURCES, fact_of
from shoplab.history.service_layer.unit_of_work import HistoryUnitOfWork
from shoplab.platform.messaging.event_log import EventLog, LoggedEvent
from shoplab.platform.time import now

log = structlog.get_logger(__name__)

BATCH_SIZE = 200
RETRY_SECONDS = 1.0


@dataclass(frozen=True)
class Applied:
    """Where a follower is: the last event it applied, and what the log said then."""

    position: int = 0
    stored_at: datetime | None = None
    pending: int | None = None


@dataclass(frozen=True)
class Lag:
    source: str
    position: int
    head: int
    messages: int
    """Events of the source the view has not applied (0 when caught up)."""
    seconds: float
    """How much older the view's newest event of the source is than the log's newest."""

    @property
    def caught_up(self) -> bool:
        return self.messages == 0


class Projector:
    def __init__(
        self,
        event_log: EventLog,
        new_uow: Callable[[], HistoryUnitOfWork],
        sources: Sequence[str] = SOURCES,
        *,
        batch_size: int = BATCH_SIZE,
    ) -> None:
        self._log = event_log
        self._new_uow = new_uow
        self.sources = tuple(sources)
        self._batch_size = batch_size
        self._applied = {source: Applied() for source in self.sources}
        self._followers: list[asyncio.Task[None]] = []
        self._writing = asyncio.Lock()
        self._control = asyncio.Lock()
        self._started_at = now()

    async def run(self) -> None:
        """Follow every source until cancelled."""
        async with self._control:
            await self._start()
        try:
            await asyncio.Future()
        finally:
            await self._stop()

    async def rebuild(self) -> None:
        """Empty the view and its positions, then follow every source from its first event."""
        async with self._control:
            await self._stop()
            async with self._new_uow() as uow:
                await uow.view.clear()
                await uow.positions.clear()
                await uow.commit()
            log.info("history view emptied; replaying the logs from the start")
            await self._start()

    async def lag(self) -> list[Lag]:
        """Each source's lag now, against the newest event its log keeps."""
        return [await self._lag(source) for source in self.sources]

    async def _lag(self, source: str) -> Lag:
        applied = self._applied[source]
        head = await self._log.head(source)
        if head is None or applied.position >= head.position:
            return Lag(source, applied.position, head.position if head else 0, 0, 0.0)
        if applied.pending is not None:
            messages = max(applied.pending, 1)
        else:  # nothing read yet: the span of positions is an upper bound
            messages = head.position - applied.position
        since = applied.stored_at or self._started_at
        seconds = max((head.stored_at - since).total_seconds(), 0.0)
        return Lag(source, applied.position, head.position, messages, seconds)

    async def _start(self) -> None:
        async with self._new_uow().read_only() as uow:
            stored = await uow.positions.all()
        for source in self.sources:
            position, stored_at = stored.get(source, (0, None))
            self._applied[source] = Applied(position, stored_at)
        self._followers = [
            asyncio.create_task(self._follow(source), name=f"history-{source}")
            for source in self.sources
        ]

    async def _stop(self) -> None:
        for follower in self._followers:
            follower.cancel()
        for follower in self._followers:
            with contextlib.suppress(asyncio.CancelledError):
                await follower
        self._followers = []

    async def _follow(self, source: str) -> None:
        while True:
            try:
                await self._read(source)
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("history follower failed; reading again", source=source)
                await asyncio.sleep(RETRY_SECONDS)

    async def _read(self, source: str) -> None:
        batch: list[LoggedEvent] = []
        async for event in self._log.read(source, self._applied[source].position):
            batch.append(event)
            if not event.pending or len(batch) >= self._batch_size:
                await self._apply(source, batch)
                batch = []

    async def _apply(self, source: str, batch: list[LoggedEvent]) -> None:
        """One transaction: the batch's effects on the view and the source's new position."""
        async with self._writing, self._new_uow() as uow:
            applied = await uow.positions.get(source)
            fresh = [event for event in batch if event.position > applied]
            if not fresh:
                return
            changed: dict[str, tuple[bool, OrderHistory]] = {}
            for event in fresh:
                fact = _fact(event)
                if fact is None:
                    continue
                new, entry = changed.get(fact.order_id) or (False, None)
                if entry is None:
                    entry = await uow.view.get(fact.order_id)
                    new = entry is None
                changed[fact.order_id] = (new, apply(entry, fact))
            for new, entry in changed.values():
                await uow.view.put(entry, new=new)
            last = fresh[-1]
            await uow.positions.advance(source, last.position, last.stored_at)
            await uow.commit()
        self._applied[source] = Applied(last.position, last.stored_at, last.pending)


def _fact(event: LoggedEvent) -> Fact | None:
    """The event's fact; an event that does not match its schema is logged and passed over
    (it would stop the whole source otherwise)."""
    try:
        return fact_of(event.envelope)
    except ValidationError:
        log.error("event does not match its schema", source=event.source, seq=event.position)
        return None
