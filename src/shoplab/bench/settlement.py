"""Seeing orders settle without loading the system that settles them.

A benchmark that asks the system "is my order final yet?" pays for every question with the
system's own CPU: reading orders back through the gateway once cost about twelve reads per
settled order, more than the order itself. Here the answer comes to the client instead:

- **microservices** (and the floor): a plain NATS subscription on the orders owner's outcome
  subjects (``OrderApproved``, ``OrderRejected``). The server copies each event, which it
  stores anyway, to one more socket; no service does any work for it.
- **monolith**: the ``202`` of a placement already carries the final status (the order
  settles in the placement's transaction). The watcher does not rely on that alone: once
  a tick (100 ms) it runs one query on the monolith's SQLite file, opened read-only, for
  the orders past the oldest one not yet final. One query a tick, whatever the rate.

Every watcher reports to a ``Ledger``, which keeps each placement and what became of it.
"""

import asyncio
import contextlib
import sqlite3
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Protocol

import nats
import orjson
from nats.aio.client import Client as NatsClient
from nats.aio.msg import Msg

from shoplab.bench.workload import PlannedOrder

FINAL = frozenset({"APPROVED", "REJECTED"})
OUTCOMES = {"OrderApproved": "APPROVED", "OrderRejected": "REJECTED"}
"""The orders owner's outcome events, by the last token of their subject."""
TICK_SECONDS = 0.1
PENDING_LIMIT = 1_000_000
"""Messages a subscription may hold unread: far more than a run settles, so none is dropped."""


@dataclass(eq=False)
class Placement:
    """One placed order and what became of it; times are wall-clock, like the server's."""

    planned: PlannedOrder
    key: str
    sent_at: float = 0.0
    answered_at: float = 0.0
    latency: float = 0.0
    """Seconds from the first send to the ``202`` (retries included)."""
    order_id: str = ""
    status: str = ""
    final_at: float = 0.0
    """When the owner wrote the final status (its ``updated_at``), else when it was seen."""
    seen_at: float = 0.0
    estimated: bool = False
    """``final_at`` is when the status was seen, not the owner's own record of it."""
    waiter: asyncio.Future[None] | None = None

    @property
    def final_after(self) -> float:
        """Time to final status: from sending the placement to the status being written."""
        return self.final_at - self.sent_at


class Ledger:
    """Every accepted placement by order id; watchers settle them as outcomes arrive."""

    def __init__(self) -> None:
        self.placements: dict[str, Placement] = {}
        self._early: dict[str, tuple[str, float]] = {}
        """Outcomes seen before their placement's ``202`` was read."""
        self.first_settled = asyncio.Event()
        """Set when the first order of the run is seen final: the system works end to end."""

    def placed(self, placement: Placement) -> None:
        self.placements[placement.order_id] = placement
        early = self._early.pop(placement.order_id, None)
        if early is not None:
            self.settle(placement.order_id, *early)

    def settle(self, order_id: str, status: str, final_at: float | None) -> None:
        placement = self.placements.get(order_id)
        if placement is None:
            self._early[order_id] = (status, final_at or time.time())
            return
        if placement.status:
            # A duplicate delivery, or the 202 and the watcher both told: the owner's
            # timestamp, when it comes second, replaces the moment the status was seen.
            if placement.estimated and final_at is not None:
                placement.final_at, placement.estimated = final_at, False
            return
        placement.seen_at = time.time()
        placement.status = status
        self.first_settled.set()
        placement.final_at = final_at or placement.seen_at
        placement.estimated = final_at is None
        if placement.waiter is not None and not placement.waiter.done():
            placement.waiter.set_result(None)

    def unsettled(self) -> list[Placement]:
        return [p for p in self.placements.values() if not p.status]

    def wake_all(self) -> None:
        """Release every waiting placement (a phase is over; its orders settle on their own)."""
        for placement in self.placements.values():
            if placement.waiter is not None and not placement.waiter.done():
                placement.waiter.set_result(None)

    async def drained(self, within: float, idle: float = 0.2) -> bool:
        """Wait until every accepted order is final; False if ``within`` seconds pass first."""
        deadline = time.monotonic() + within
        while self.unsettled():
            if time.monotonic() > deadline:
                return False
            await asyncio.sleep(idle)
        return True


def wall_time(stamp: object) -> float | None:
    """A timestamp as sent by the system (ISO text, naive meaning UTC, or epoch seconds)."""
    if isinstance(stamp, int | float):
        return float(stamp)
    if not isinstance(stamp, str):
        return None
    try:
        moment = datetime.fromisoformat(stamp)
    except ValueError:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.timestamp()


class EventWatcher:
    """A subscription on the outcome subjects: it reads what the broker delivers anyway."""

    def __init__(self, url: str, subjects: list[str], ledger: Ledger) -> None:
        self._url, self._subjects, self._ledger = url, subjects, ledger
        self._connection: NatsClient | None = None

    async def start(self) -> None:
        self._connection = await nats.connect(self._url, name="bench-watcher")
        for subject in self._subjects:
            await self._connection.subscribe(
                subject,
                cb=self._on_event,
                pending_msgs_limit=PENDING_LIMIT,
                pending_bytes_limit=PENDING_LIMIT * 2048,
            )
        await self._connection.flush()

    async def _on_event(self, message: Msg) -> None:
        status = OUTCOMES.get(message.subject.rsplit(".", 1)[-1])
        if status is None:
            return
        body = orjson.loads(message.data)
        payload = body.get("payload", body)
        self._ledger.settle(payload["order_id"], status, wall_time(payload.get("updated_at")))

    async def stop(self) -> None:
        if self._connection is not None:
            await self._connection.close()


OUTCOMES_SQL = (
    "SELECT rowid, order_id, status, updated_at FROM orders_orders WHERE rowid > ? ORDER BY rowid"
)


class TableWatcher:
    """One read-only query a tick on the monolith's database, from the oldest order not final.

    ``low`` is the rowid below which every order is final: each tick reads only the tail
    of the table, so the query stays small however many orders the run placed.
    """

    def __init__(self, database: Path, ledger: Ledger, tick: float = TICK_SECONDS) -> None:
        self._database, self._ledger, self._tick = database, ledger, tick
        self._low = 0
        self._task: asyncio.Task[None] | None = None
        self.queries = 0

    async def start(self) -> None:
        uri = f"file:{self._database}?mode=ro"
        self._connection = sqlite3.connect(uri, uri=True, check_same_thread=False)
        self.read_once()
        self._task = asyncio.get_running_loop().create_task(self._run())

    async def _run(self) -> None:
        while True:
            await asyncio.sleep(self._tick)
            self.read_once()

    def read_once(self) -> None:
        self.queries += 1
        first_open: int | None = None
        last = self._low
        for rowid, order_id, status, updated_at in self._connection.execute(
            OUTCOMES_SQL, (self._low,)
        ):
            last = rowid
            if status in FINAL:
                self._ledger.settle(order_id, status, wall_time(updated_at))
            elif first_open is None:
                first_open = rowid
        self._low = last if first_open is None else first_open - 1

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        self._connection.close()


class Watcher(Protocol):
    """A watcher of settlement: it reports outcomes to its ledger between start and stop."""

    async def start(self) -> None: ...

    async def stop(self) -> None: ...
