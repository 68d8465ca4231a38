"""The event log on RabbitMQ: each context's events read from a RabbitMQ stream.

A quorum queue forgets a message once a consumer acks it, so it cannot be read
again from the start; a stream (``x-queue-type=stream``) keeps every message
within its ``x-max-age`` / ``x-max-length-bytes`` limits and lets each reader
choose where to begin with the ``x-stream-offset`` consumer argument. Offsets
start at 0, so a position is the offset plus one.

Every bus declares the streams at start (``rabbit_topology.declare_streams``),
bound to the exchange for ``shoplab.<context>.events.#``: an event published
after any service of the run started is in the log.

``pending`` is None: over AMQP, RabbitMQ 3.10 reports no message count for a
stream (``queue.declare`` answers 0). ``head`` finds the newest event instead by
reading from ``x-stream-offset=last``, which starts at the stream's last chunk (a
batch written together), until the messages stop coming: a fraction of a second
per call, so readers should ask for it when they report their lag, not per event.
"""

import asyncio
from collections.abc import AsyncGenerator, AsyncIterator
from datetime import UTC

import aio_pika
import structlog
from aio_pika.abc import AbstractChannel, AbstractConnection, AbstractIncomingMessage
from pydantic import ValidationError

from shoplab.contracts.envelope import Envelope
from shoplab.platform.messaging.event_log import LoggedEvent, LogHead
from shoplab.platform.messaging.rabbitmq.topology import (
    EVENT_SOURCES,
    RabbitTopology,
    declare_streams,
)
from shoplab.platform.messaging.streams import Topology

log = structlog.get_logger(__name__)

PREFETCH = 256
"""RabbitMQ requires a prefetch limit on stream consumers; it bounds what a reader buffers."""
FIRST_WAIT_SECONDS = 0.5
"""How long ``head`` waits for the last chunk of a stream before it calls the stream empty."""
QUIET_SECONDS = 0.1
"""A pause this long in the last chunk's messages means the chunk is over."""


class RabbitEventLog:
    """The events of the contexts in ``EVENT_SOURCES``, from RabbitMQ streams."""

    def __init__(
        self, url: str, topology: Topology | None = None, *, name: str = "event-log"
    ) -> None:
        self._url = url
        self._name = name
        self._names = RabbitTopology(topology or Topology())
        self._connection: AbstractConnection | None = None
        self._connecting = asyncio.Lock()

    async def start(self) -> None:
        await declare_streams(await self._connected(), self._names)

    async def stop(self) -> None:
        if self._connection is not None:
            await self._connection.close()
        self._connection = None

    async def head(self, source: str) -> LogHead | None:
        """The newest event of ``source`` kept, or None when its stream holds none."""
        newest: LoggedEvent | None = None
        messages = self._messages(source, "last")
        wait = FIRST_WAIT_SECONDS
        try:
            while True:
                try:
                    message = await asyncio.wait_for(anext(messages), wait)
                except TimeoutError:
                    break
                event = _logged(source, message)
                if event is not None and (newest is None or event.position > newest.position):
                    newest = event
                wait = QUIET_SECONDS
        finally:
            await messages.aclose()
        return None if newest is None else LogHead(newest.position, newest.stored_at)

    async def read(self, source: str, after: int) -> AsyncIterator[LoggedEvent]:
        """The events of ``source`` after position ``after``, then each new one, forever.

        Raises ``ConnectionError`` when the connection is lost: the reader starts again
        from the position it reached (no redelivery from an old offset can surprise it).
        """
        messages = self._messages(source, after if after > 0 else "first")
        try:
            async for message in messages:
                event = _logged(source, message)
                if event is not None and event.position > after:
                    yield event
        finally:
            await messages.aclose()

    async def _messages(
        self, source: str, offset: int | str
    ) -> AsyncGenerator[AbstractIncomingMessage, None]:
        """A stream consumer from ``offset``, on a channel of its own.

        Not ``Queue.iterator``: leaving it early rejects the messages it buffered, and a
        stream answers a reject by closing the whole connection. Closing the channel is
        how a stream consumer stops.
        """
        name = self._stream(source)
        channel = await (await self._connected()).channel()
        arrived: asyncio.Queue[AbstractIncomingMessage | None] = asyncio.Queue()
        channel.close_callbacks.add(lambda *_: arrived.put_nowait(None))
        try:
            await channel.set_qos(prefetch_count=PREFETCH)
            stream = await channel.get_queue(name, ensure=False)
            await stream.consume(arrived.put, arguments={"x-stream-offset": offset})
            while (message := await arrived.get()) is not None:
                yield message
                await message.ack()  # a stream needs acks to grant its consumer more credit
            raise ConnectionError(f"the consumer of {name} lost its channel")
        finally:
            await _close(channel)

    async def _connected(self) -> AbstractConnection:
        """The connection, opened again when it was lost (readers then start over)."""
        async with self._connecting:
            if self._connection is None or self._connection.is_closed:
                self._connection = await aio_pika.connect(
                    self._url, client_properties={"connection_name": self._name}
                )
            return self._connection

    def _stream(self, source: str) -> str:
        if source not in EVENT_SOURCES:
            raise ValueError(f"no event stream for {source!r}")
        return self._names.event_stream(source)


async def _close(channel: AbstractChannel) -> None:
    if not channel.is_closed:
        await channel.close()


def _logged(source: str, message: AbstractIncomingMessage) -> LoggedEvent | None:
    offset = (message.headers or {}).get("x-stream-offset")
    if not isinstance(offset, int):
        log.warning("stream message without an offset", source=source)
        return None
    try:
        envelope = Envelope.model_validate_json(message.body)
    except ValidationError:
        log.warning("unreadable event in the log; skipped", source=source, offset=offset)
        return None
    stored_at = message.timestamp or envelope.occurred_at
    if stored_at.tzinfo is None:
        stored_at = stored_at.replace(tzinfo=UTC)
    return LoggedEvent(
        source=source,
        position=offset + 1,
        stored_at=stored_at,
        envelope=envelope,
        pending=None,
    )
