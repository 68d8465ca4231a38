"""The outbox relay: publishes committed outbox rows, then marks them published.

It wakes when a unit of work commits a message (``Database.outbox_written``) and
also polls, so rows left behind by a crash are sent after a restart. A row that
keeps failing is retried with exponential backoff and, after ``max_attempts``,
dead-lettered: kept with its last error and ``dead_at`` set, never retried. A
broker that cannot be reached is no fault of the row: the relay just waits for
it, and no attempt is counted.
Publishing and marking are separate steps, so a crash between them sends the
message again: consumers are idempotent for exactly that reason.
"""

import asyncio
import contextlib
import random
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import structlog
from sqlalchemy import Table, select, update

from shoplab.contracts.envelope import Envelope
from shoplab.platform.database import Database
from shoplab.platform.messaging import Publisher, PublisherUnavailable

log = structlog.get_logger(__name__)

BATCH_SIZE = 100


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
    ) -> None:
        self._database = database
        self._outboxes = outboxes
        self._publisher = publisher
        self._max_attempts = max_attempts
        self._poll_seconds = poll_seconds

    async def run(self) -> None:
        """Drain forever; cancel the task to stop."""
        while True:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._database.outbox_written.wait(), self._poll_seconds)
            self._database.outbox_written.clear()
            try:
                await self.drain()
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
        """Publish rows in order, then mark the published ones in one transaction."""
        published: list[int] = []
        for row in rows:
            try:
                await self._publisher.publish(Envelope.model_validate_json(row.envelope))
            except PublisherUnavailable:
                log.warning("broker unavailable; the outbox waits", outbox=outbox.name)
                break
            except Exception as error:
                await self._record_failure(outbox, row.position, row.attempts + 1, error)
            else:
                published.append(row.position)
        if published:
            async with self._database.sessions() as session:
                await session.execute(
                    update(outbox)
                    .where(outbox.c.position.in_(published))
                    .values(published_at=datetime.now(UTC))
                )
                await session.commit()
        return len(published)

    async def _due_rows(self, outbox: Table) -> list[PendingRow]:
        async with self._database.readers() as session:
            result = await session.execute(
                select(outbox.c.position, outbox.c.envelope, outbox.c.attempts)
                .where(
                    outbox.c.published_at.is_(None),
                    outbox.c.dead_at.is_(None),
                    outbox.c.next_attempt_at <= datetime.now(UTC),
                )
                .order_by(outbox.c.position)
                .limit(BATCH_SIZE)
            )
            return [PendingRow(r.position, r.envelope, r.attempts) for r in result]

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
            log.error("message dead-lettered", attempts=attempts, **where)
        else:
            values["next_attempt_at"] = now + backoff(attempts)
            log.warning("message delivery failed", attempts=attempts, **where)
        await self._mark(outbox, position, **values)

    async def _mark(self, outbox: Table, position: int, **values: object) -> None:
        async with self._database.sessions() as session:
            await session.execute(
                update(outbox).where(outbox.c.position == position).values(values)
            )
            await session.commit()


def backoff(attempts: int, *, base: float = 0.5, cap: float = 30.0) -> timedelta:
    """Exponential backoff with full jitter: a random delay up to ``base * 2**attempts``."""
    return timedelta(seconds=random.uniform(0, min(cap, base * 2**attempts)))
