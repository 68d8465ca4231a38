"""The outbox relay: publishes committed outbox rows, then marks them published.

It wakes when a unit of work commits a message (``Database.outbox_written``) and
also polls, so rows left behind by a crash are sent after a restart. A row that
keeps failing is retried with exponential backoff and, after ``max_attempts``,
dead-lettered: kept with its last error and ``dead_at`` set, never retried. A
broker that cannot be reached is no fault of the row: the relay just waits for
it, and no attempt is counted.
Publishing and marking are separate steps, so a crash between them sends the
message again: consumers are idempotent for exactly that reason.

Each publish is a span, a child of the trace the row was written in (see
``telemetry.messages``); the backlog and the oldest row's age are gauges, refreshed
at most once a second.
"""

import asyncio
import contextlib
import random
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import structlog
from sqlalchemy import Table

from shoplab.contracts.envelope import Envelope
from shoplab.platform.messaging.consumers import IN_PROCESS, Publisher, PublisherUnavailable
from shoplab.platform.persistence.database import Database
from shoplab.platform.persistence.sql import time_from_text
from shoplab.platform.telemetry.messages import failed, publishing
from shoplab.platform.telemetry.metrics import messaging_metrics

log = structlog.get_logger(__name__)

BATCH_SIZE = 100
BACKLOG_EVERY_SECONDS = 1.0


@dataclass(frozen=True)
class PendingRow:
    position: int
    envelope: str
    attempts: int


class OutboxRelay:
    def __init__(
        self,
        database: Database,
        outboxes: list[Table],
        publisher: Publisher,
        *,
        max_attempts: int = 5,
        poll_seconds: float = 1.0,
        system: str = IN_PROCESS,
    ) -> None:
        """``system``: what carries the messages (``nats``, ``rabbitmq``), named on spans."""
        self._database = database
        self._outboxes = outboxes
        self._publisher = publisher
        self._max_attempts = max_attempts
        self._poll_seconds = poll_seconds
        self._system = system
        self._pipelined = system != IN_PROCESS
        self._metrics = messaging_metrics()
        self._backlog_measured_at = float("-inf")

    async def run(self) -> None:
        """Drain forever; cancel the task to stop."""
        while True:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._database.outbox_written.wait(), self._poll_seconds)
            self._database.outbox_written.clear()
            try:
                await self.drain()
                if time.monotonic() - self._backlog_measured_at >= BACKLOG_EVERY_SECONDS:
                    await self.measure_backlog()
            except Exception:
                log.exception("outbox relay pass failed")

    async def drain(self) -> int:
        """Publish every due row once; returns how many were published."""
        published = 0
        for outbox in self._outboxes:
            while rows := await self._due_rows(outbox):
                published += await self._relay_batch(outbox, rows)
                if len(rows) < BATCH_SIZE:
                    break
        return published

    async def _relay_batch(self, outbox: Table, rows: list[PendingRow]) -> int:
        """Publish the rows, then mark the published ones in one transaction.

        Over a broker, the rows of different orders (``correlation_id``) are published
        at once, so that their acknowledgements are awaited together rather than one
        after the other; the rows of one order go in order, and a failed one holds back
        the later ones. In process, a publish runs the handlers, so rows go one at a
        time, in order, and a failed row holds back none.
        """
        flows: dict[object, list[tuple[PendingRow, Envelope]]] = {}
        for row in rows:
            try:
                envelope = Envelope.model_validate_json(row.envelope)
            except ValueError as error:
                await self._record_failure(outbox, row.position, row.attempts + 1, error)
                continue
            key = envelope.correlation_id if self._pipelined else row.position
            flows.setdefault(key, []).append((row, envelope))
        if self._pipelined:
            outcomes = await asyncio.gather(
                *(self._send_in_order(outbox, f) for f in flows.values())
            )
        else:
            outcomes = [await self._send_in_order(outbox, f) for f in flows.values()]
        published = [position for positions in outcomes for position in positions]
        if published:
            now = datetime.now(UTC)
            async with self._database.transaction() as sql:
                await sql.execute_many(
                    f"UPDATE {outbox.name} SET published_at = :now WHERE position = :position",
                    [{"now": now, "position": position} for position in published],
                )
        return len(published)

    async def _send_in_order(
        self, outbox: Table, flow: list[tuple[PendingRow, Envelope]]
    ) -> list[int]:
        """Publish one flow's rows in order; stop at the first failure, so none overtakes it."""
        published: list[int] = []
        for row, envelope in flow:
            try:
                await self._publish(envelope)
            except PublisherUnavailable:
                log.warning("broker unavailable; the outbox waits", outbox=outbox.name)
                break
            except Exception as error:
                await self._record_failure(outbox, row.position, row.attempts + 1, error)
                break
            published.append(row.position)
            self._metrics.published.labels(envelope.subject).inc()
        return published

    async def _publish(self, envelope: Envelope) -> None:
        with publishing(envelope, self._system) as span:
            try:
                await self._publisher.publish(envelope)
            except Exception as error:
                failed(span, error)
                raise

    async def measure_backlog(self) -> None:
        """Refresh the backlog gauges: rows waiting, and how long the oldest has waited."""
        self._backlog_measured_at = time.monotonic()
        now = datetime.now(UTC)
        async with self._database.transaction(read_only=True) as sql:
            for outbox in self._outboxes:
                waiting, oldest = await sql.one(
                    f"SELECT count(*), min(created_at) FROM {outbox.name}"
                    " WHERE published_at IS NULL AND dead_at IS NULL"
                ) or (0, None)
                since = time_from_text(oldest)
                age = (now - since).total_seconds() if since is not None else 0.0
                self._metrics.outbox_backlog.labels(outbox.name).set(waiting)
                self._metrics.outbox_oldest_age.labels(outbox.name).set(max(age, 0.0))

    async def _due_rows(self, outbox: Table) -> list[PendingRow]:
        async with self._database.transaction(read_only=True) as sql:
            rows = await sql.all(
                f"SELECT position, envelope, attempts FROM {outbox.name}"
                " WHERE published_at IS NULL AND dead_at IS NULL AND next_attempt_at <= :now"
                " ORDER BY position LIMIT :limit",
                {"now": datetime.now(UTC), "limit": BATCH_SIZE},
            )
        return [PendingRow(r.position, r.envelope, r.attempts) for r in rows]

    async def _record_failure(
        self, outbox: Table, position: int, attempts: int, error: Exception
    ) -> None:
        """Retry later with backoff, or dead-letter once the attempts are spent.

        A row that cannot even be parsed fails the same way, so it cannot block the rest.
        """
        now = datetime.now(UTC)
        values: dict[str, object] = {"attempts": attempts, "last_error": repr(error)[:2000]}
        where = {"outbox": outbox.name, "position": position, "error": repr(error)}
        if attempts >= self._max_attempts:
            values["dead_at"] = now
            self._metrics.outbox_dead.labels(outbox.name).inc()
            log.error("message dead-lettered", attempts=attempts, **where)
        else:
            values["next_attempt_at"] = now + backoff(attempts)
            log.warning("message delivery failed", attempts=attempts, **where)
        await self._mark(outbox, position, **values)

    async def _mark(self, outbox: Table, position: int, **values: object) -> None:
        columns = ", ".join(f"{column} = :{column}" for column in values)
        async with self._database.transaction() as sql:
            await sql.execute(
                f"UPDATE {outbox.name} SET {columns} WHERE position = :position",
                {**values, "position": position},
            )


def backoff(attempts: int, *, base: float = 0.5, cap: float = 30.0) -> timedelta:
    """Exponential backoff with full jitter: a random delay up to ``base * 2**attempts``."""
    return timedelta(seconds=random.uniform(0, min(cap, base * 2**attempts)))
