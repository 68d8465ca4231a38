"""The outbox relay: publishes committed outbox rows, then marks them published.

Rows reach it in memory: a unit of work hands its rows over right after its COMMIT
(``Database.handoff``), so the relay reads nothing to find them. Polling the tables is
only for recovery: once at start (rows a crash left behind) and then every
``poll_seconds``, sooner after a failure, to retry rows whose backoff has passed.

Over a broker the relay publishes the stored bytes as they are, with a window of up to
``WINDOW`` publishes awaiting the broker's acknowledgement at once: the rows of one order
(``correlation_id``) to one owner's stream go one after the other, and a failed one holds
back the later ones; the rest go together. Messages in two owners' streams are never
ordered for any consumer, so an order's ``OrderPlaced`` (orders' stream) and
``ReserveStock`` (inventory's) leave at once: the saga's next step waits for no
acknowledgement it does not need. It marks each batch published in
one statement. In process, a publish runs the handlers, so rows go one at a time, in
order, each parsed into the envelope the handlers take (none is parsed again when it was
handed over).

A row that keeps failing is retried with exponential backoff and, after
``max_attempts``, dead-lettered: kept with its last error and ``dead_at`` set, never
retried. A broker that cannot be reached is no fault of the row: the relay just waits for
it, and no attempt is counted. Publishing and marking are separate steps, so a crash
between them sends the message again: JetStream's de-duplication (``Nats-Msg-Id``) and
the consumers' inbox absorb it.

Each publish is a span, a child of the trace the row was written in (see
``telemetry.messages``), and costs nothing when that trace is not sampled. The backlog
and the oldest row's age are gauges, measured on each recovery pass; an idle relay reads
them, one query per outbox, every ``poll_seconds`` and nothing else.
"""

import asyncio
import contextlib
import random
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol, runtime_checkable

import structlog
from opentelemetry import trace
from opentelemetry.trace import Span
from sqlalchemy import Table

from shoplab.contracts.envelope import Envelope
from shoplab.platform.messaging.consumers import IN_PROCESS, Publisher, PublisherUnavailable
from shoplab.platform.persistence.database import Database
from shoplab.platform.persistence.handoff import CommittedMessage
from shoplab.platform.persistence.sql import in_list, time_from_text
from shoplab.platform.telemetry.messages import failed, publishing, start_publishing
from shoplab.platform.telemetry.metrics import messaging_metrics

log = structlog.get_logger(__name__)

WINDOW = 256
"""Publishes awaiting the broker's acknowledgement at most; also a batch's size."""
RECOVERY_SECONDS = 5.0
UNAVAILABLE_SECONDS = 1.0
"""How soon the relay looks again after the broker could not be reached."""
PUBLISH_TIMEOUT_SECONDS = 5.0


@runtime_checkable
class StoredPublisher(Protocol):
    """A broker that publishes a stored message's bytes as they are (``Bus``)."""

    async def publish_stored(
        self,
        subject: str,
        message_id: str,
        body: bytes,
        headers: Mapping[str, str],
        message_type: str,
    ) -> "asyncio.Future[Any]":
        """Send now; the future ends once the broker stored it, or fails.

        Raises ``PublisherUnavailable`` at once when the broker cannot be reached.
        """
        ...


@runtime_checkable
class BatchPublisher(Protocol):
    """A transport that hands a whole batch to its subscribers (``InProcessPublisher``)."""

    async def publish_batch(
        self, messages: Sequence[tuple[str, bytes, Mapping[str, str]]], attempts: Sequence[int]
    ) -> list[Exception | None]:
        """Each message's outcome, in order: None when handled, else what went wrong."""
        ...


@dataclass(frozen=True, slots=True)
class _Recovered:
    """A row the recovery poll found, with the attempts it has already had."""

    table: str
    position: int
    envelope: Envelope
    body: str
    attempts: int


Row = CommittedMessage | _Recovered
"""A row to publish: handed over at commit (no attempt yet), or found by the poll."""


class OutboxRelay:
    def __init__(
        self,
        database: Database,
        outboxes: list[Table],
        publisher: Publisher,
        *,
        max_attempts: int = 5,
        poll_seconds: float = RECOVERY_SECONDS,
        system: str = IN_PROCESS,
    ) -> None:
        """``system``: what carries the messages (``nats``, ``rabbitmq``), named on spans.

        ``poll_seconds``: how often the recovery poll runs.
        """
        self._database = database
        self._outboxes = outboxes
        self._tables = {outbox.name for outbox in outboxes}
        self._publisher = publisher
        self._stored = publisher if isinstance(publisher, StoredPublisher) else None
        self._in_batches = publisher if isinstance(publisher, BatchPublisher) else None
        self._max_attempts = max_attempts
        self._poll_seconds = poll_seconds
        self._system = system
        self._pipelined = system != IN_PROCESS
        self._metrics = messaging_metrics()
        self._next_poll = 0.0

    async def run(self) -> None:
        """Publish what is handed over, and recover what is not; cancel the task to stop."""
        handoff = self._database.handoff
        handoff.open()
        try:
            while True:
                try:
                    await self._wait_for_work()
                    handoff.arrived.clear()
                    if handoff.overflowed or time.monotonic() >= self._next_poll:
                        # older rows first: those a crash left, and those due again
                        handoff.overflowed = False
                        self._next_poll = time.monotonic() + self._poll_seconds
                        waiting = await self.measure_backlog()
                        await self.drain([o for o in self._outboxes if waiting[o.name]])
                    while batch := handoff.take(WINDOW):
                        await self._relay([r for r in batch if r.table in self._tables])
                except Exception:
                    log.exception("outbox relay pass failed")
                    self._poll_soon(UNAVAILABLE_SECONDS)
        finally:
            handoff.close()

    async def _wait_for_work(self) -> None:
        arrived = self._database.handoff.arrived
        wait = self._next_poll - time.monotonic()
        if arrived.is_set() or wait <= 0:
            return
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(wait):
                await arrived.wait()

    def _poll_soon(self, seconds: float) -> None:
        self._next_poll = min(self._next_poll, time.monotonic() + seconds)

    async def drain(self, outboxes: Sequence[Table] | None = None) -> int:
        """The recovery poll: publish every due row once; returns how many were published.

        Rows still waiting in the handoff are left to it, so that none goes twice.
        ``outboxes``: only these (the ones the backlog says have rows waiting).
        """
        published = 0
        for outbox in self._outboxes if outboxes is None else outboxes:
            after = 0
            while rows := await self._due_rows(outbox, after):
                after = rows[-1][0]
                queued = self._database.handoff.queued(outbox.name)
                readable = await self._readable(outbox, rows)
                published += await self._relay([r for r in readable if r.position not in queued])
                if len(rows) < WINDOW:
                    break
        return published

    async def _due_rows(self, outbox: Table, after: int) -> list[tuple[int, str, int]]:
        async with self._database.transaction(read_only=True) as sql:
            rows = await sql.all(
                f"SELECT position, envelope, attempts FROM {outbox.name}"
                " WHERE published_at IS NULL AND dead_at IS NULL AND next_attempt_at <= :now"
                " AND position > :after ORDER BY position LIMIT :limit",
                {"now": datetime.now(UTC), "after": after, "limit": WINDOW},
            )
        return [(r.position, r.envelope, r.attempts) for r in rows]

    async def _readable(self, outbox: Table, rows: list[tuple[int, str, int]]) -> list["Row"]:
        """The rows as envelopes; one that cannot be parsed fails (and so cannot block)."""
        readable: list[Row] = []
        for position, body, attempts in rows:
            try:
                envelope = Envelope.model_validate_json(body)
            except ValueError as error:
                await self._record_failure(outbox.name, position, attempts + 1, error)
                continue
            readable.append(_Recovered(outbox.name, position, envelope, body, attempts))
        return readable

    async def _relay(self, rows: Sequence["Row"]) -> int:
        """Publish the rows, then mark the published ones, one statement per table."""
        if not rows:
            return 0
        if self._pipelined:
            published = await self._publish_flows(rows)
        elif self._in_batches is not None:
            published = await self._publish_batch_in_process(self._in_batches, rows)
        else:
            published = [row for row in rows if await self._publish_in_process(row)]
        if published:
            await self._mark_published(published)
        return len(published)

    async def _publish_batch_in_process(
        self, publisher: BatchPublisher, rows: Sequence["Row"]
    ) -> list["Row"]:
        """Hand the rows over together: each subscriber takes them in one transaction."""
        started = [start_publishing(row.envelope, self._system) for row in rows]
        messages = [
            (row.envelope.subject, row.body.encode(), headers)
            for row, (headers, _) in zip(rows, started, strict=True)
        ]
        errors = await publisher.publish_batch(messages, [_attempts(row) for row in rows])
        published: list[Row] = []
        for row, (_, span), error in zip(rows, started, errors, strict=True):
            _end(span, error)
            if error is None:
                published.append(row)
                self._metrics.published.labels(row.envelope.subject).inc()
            else:
                await self._record_failure(row.table, row.position, _attempts(row) + 1, error)
        return published

    async def _publish_in_process(self, row: "Row") -> bool:
        """Run the handlers of one row; a failed row holds back none."""
        with publishing(row.envelope, self._system) as span:
            try:
                await self._publisher.publish(row.envelope)
            except PublisherUnavailable:
                return False
            except Exception as error:
                failed(span, error)
                await self._record_failure(row.table, row.position, _attempts(row) + 1, error)
                return False
        self._metrics.published.labels(row.envelope.subject).inc()
        return True

    async def _publish_flows(self, rows: Sequence["Row"]) -> list["Row"]:
        """Publish in rounds: each round sends the next row of every flow still going,
        then awaits their acknowledgements together; a flow whose row failed stops."""
        flows: dict[tuple[str | None, str], list[Row]] = {}
        for row in rows:
            flows.setdefault(_flow(row.envelope), []).append(row)
        going = [iter(flow) for flow in flows.values()]
        published: list[Row] = []
        while going:
            sent: list[tuple[Any, Row, asyncio.Future[Any], Span | None]]
            sent = []
            for flow in going:
                if (following := next(flow, None)) is None:
                    continue
                try:
                    future, span = await self._send(following)
                except PublisherUnavailable:
                    log.warning("broker unavailable; the outbox waits", outbox=following.table)
                    self._poll_soon(UNAVAILABLE_SECONDS)
                    continue
                sent.append((flow, following, future, span))
            if not sent:
                break
            _, late = await asyncio.wait([s[2] for s in sent], timeout=PUBLISH_TIMEOUT_SECONDS)
            for future in late:
                future.cancel()
            going = []
            for flow, row, future, span in sent:
                error = _failure(future)
                _end(span, error)
                if error is None:
                    published.append(row)
                    going.append(flow)
                    self._metrics.published.labels(row.envelope.subject).inc()
                elif isinstance(error, PublisherUnavailable):
                    log.warning("broker unavailable; the outbox waits", outbox=row.table)
                    self._poll_soon(UNAVAILABLE_SECONDS)
                else:
                    await self._record_failure(row.table, row.position, _attempts(row) + 1, error)
        return published

    async def _send(self, row: "Row") -> tuple["asyncio.Future[Any]", Span | None]:
        """Send one row under its span; the future ends with the broker's answer."""
        envelope = row.envelope
        headers, span = start_publishing(envelope, self._system)
        try:
            if self._stored is not None:
                future = await self._stored.publish_stored(
                    envelope.subject, envelope.message_id, row.body.encode(), headers, envelope.type
                )
            else:  # a publisher that takes envelopes: in a task of its own, under the span
                with trace.use_span(span or trace.INVALID_SPAN, end_on_exit=False):
                    future = asyncio.ensure_future(self._publisher.publish(envelope))
        except BaseException as error:
            if span is not None:
                failed(span, error)
                span.end()
            raise
        return future, span

    async def _mark_published(self, rows: Sequence["Row"]) -> None:
        """One UPDATE per table, whatever the batch's size."""
        by_table: dict[str, list[int]] = {}
        for row in rows:
            by_table.setdefault(row.table, []).append(row.position)
        async with self._database.transaction() as sql:
            for table, positions in by_table.items():
                placeholders, params = in_list("p", _padded(positions))
                await sql.execute(
                    f"UPDATE {table} SET published_at = :now WHERE position IN ({placeholders})",
                    {**params, "now": datetime.now(UTC)},
                )

    async def measure_backlog(self) -> dict[str, int]:
        """Refresh the backlog gauges: rows waiting, and how long the oldest has waited.

        Returns the rows waiting per outbox, so that an empty one is not polled.
        """
        now = datetime.now(UTC)
        backlog: dict[str, int] = {}
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
                backlog[outbox.name] = int(waiting)
        return backlog

    async def _record_failure(
        self, table: str, position: int, attempts: int, error: BaseException
    ) -> None:
        """Retry later with backoff, or dead-letter once the attempts are spent.

        A row that cannot even be parsed fails the same way, so it cannot block the rest.
        """
        now = datetime.now(UTC)
        values: dict[str, object] = {"attempts": attempts, "last_error": repr(error)[:2000]}
        where = {"outbox": table, "position": position, "error": repr(error)}
        if attempts >= self._max_attempts:
            values["dead_at"] = now
            self._metrics.outbox_dead.labels(table).inc()
            log.error("message dead-lettered", attempts=attempts, **where)
        else:
            delay = backoff(attempts)
            values["next_attempt_at"] = now + delay
            self._poll_soon(delay.total_seconds())
            log.warning("message delivery failed", attempts=attempts, **where)
        columns = ", ".join(f"{column} = :{column}" for column in values)
        async with self._database.transaction() as sql:
            await sql.execute(
                f"UPDATE {table} SET {columns} WHERE position = :position",
                {**values, "position": position},
            )


def _flow(envelope: Envelope) -> tuple[str | None, str]:
    """The rows that must reach the broker in order: one order's, to one owner's stream.

    A subject is ``shoplab.<owner>.<kind>.<Name>``, and each owner's messages share a
    stream (or, on RabbitMQ, an exchange).
    """
    owner = envelope.subject.partition(".")[2].partition(".")[0]
    return envelope.correlation_id, owner


def _attempts(row: Row) -> int:
    return row.attempts if isinstance(row, _Recovered) else 0


def _end(span: Span | None, error: BaseException | None) -> None:
    """End a publish's span (when one was made), marked failed when ``error`` is set."""
    if span is not None:
        if error is not None:
            failed(span, error)
        span.end()


def _failure(future: "asyncio.Future[Any]") -> BaseException | None:
    """What went wrong with one publish: its error, or a timeout when it had no answer."""
    if future.cancelled():
        return TimeoutError(f"no acknowledgement within {PUBLISH_TIMEOUT_SECONDS} s")
    return future.exception()


def _padded(positions: list[int]) -> list[int]:
    """The positions, the last repeated up to a power of two: a few SQL texts, each
    prepared once, serve every batch's size."""
    size = 1 << (len(positions) - 1).bit_length()
    return positions + [positions[-1]] * (size - len(positions))


def backoff(attempts: int, *, base: float = 0.5, cap: float = 30.0) -> timedelta:
    """Exponential backoff with full jitter: a random delay up to ``base * 2**attempts``."""
    return timedelta(seconds=random.uniform(0, min(cap, base * 2**attempts)))
