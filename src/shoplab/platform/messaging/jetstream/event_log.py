"""The event log on JetStream.

A context's stream keeps its events and the commands addressed to it; a reader
of the log wants the events only, so it reads through an *ordered consumer*
filtered on ``shoplab.<context>.events.>``: an ephemeral push consumer that the
client re-creates from the last sequence it saw whenever a message goes missing
or the connection drops. It starts at the stream sequence after the reader's
position (``DeliverPolicy.BY_START_SEQUENCE``), acknowledges nothing, and leaves
no state on the server: the reader keeps its position, not the broker.

Each message's metadata tells its stream sequence (the position), when the
stream stored it, and how many messages of the filter follow it (``num_pending``).
"""

from collections.abc import AsyncIterator
from datetime import UTC

import nats
import structlog
from nats.aio.client import Client
from nats.js import JetStreamContext
from nats.js.api import ConsumerConfig, DeliverPolicy
from nats.js.errors import NotFoundError
from pydantic import ValidationError

from shoplab.contracts.envelope import Envelope
from shoplab.platform.messaging.event_log import LoggedEvent, LogHead
from shoplab.platform.messaging.streams import Topology

log = structlog.get_logger(__name__)

IDLE_HEARTBEAT_SECONDS = 2.0
"""How often the server proves an idle ordered consumer alive; a gap makes the client reset it."""


class NatsEventLog:
    """The events of each context's JetStream stream, read as a log."""

    def __init__(self, url: str, topology: Topology, *, name: str = "event-log") -> None:
        self._url = url
        self._topology = topology
        self._name = name
        self._connection: Client | None = None

    async def start(self) -> None:
        self._connection = await nats.connect(
            self._url, name=self._name, max_reconnect_attempts=-1, reconnect_time_wait=1
        )

    async def stop(self) -> None:
        if self._connection is not None:
            await self._connection.close()
            self._connection = None

    async def read(self, source: str, after: int) -> AsyncIterator[LoggedEvent]:
        subscription = await self._jetstream().subscribe(
            self._topology.events(source),
            stream=self._topology.stream_of(source),
            ordered_consumer=True,
            idle_heartbeat=IDLE_HEARTBEAT_SECONDS,
            deliver_policy=DeliverPolicy.BY_START_SEQUENCE,
            config=ConsumerConfig(opt_start_seq=after + 1),
        )
        try:
            while True:
                message = await subscription.next_msg(timeout=None)
                metadata = message.metadata
                try:
                    envelope = Envelope.model_validate_json(message.data)
                except ValidationError:
                    log.error("unreadable event skipped", source=source, seq=metadata.sequence)
                    continue
                yield LoggedEvent(
                    source=source,
                    position=metadata.sequence.stream,
                    stored_at=metadata.timestamp.astimezone(UTC),
                    envelope=envelope,
                    pending=metadata.num_pending,
                )
        finally:
            if self._connection is not None and not self._connection.is_closed:
                await subscription.unsubscribe()

    async def head(self, source: str) -> LogHead | None:
        try:
            last = await self._jetstream().get_last_msg(
                self._topology.stream_of(source), self._topology.events(source)
            )
        except NotFoundError:
            return None
        if last.seq is None or last.time is None:
            return None
        return LogHead(position=last.seq, stored_at=last.time.astimezone(UTC))

    def _jetstream(self) -> JetStreamContext:
        if self._connection is None:
            raise RuntimeError("the event log has not started")
        return self._connection.jetstream()
