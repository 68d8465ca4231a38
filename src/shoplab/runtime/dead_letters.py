"""Dead letters: the messages a consumer gave up on, and how to send them again.

On RabbitMQ (an ``amqp://`` broker URL) ``rabbit_admin`` does the same with the
dead-letter queue; below, NATS. The services keep each dead letter in the
JetStream stream ``SHOPLAB_DLQ``, on
``shoplab.dlq.<consumer>`` (both prefixed by the run's namespace, if it has one):
its data is the original envelope (JSON bytes), its headers say where it came
from and why it failed. Replaying publishes the
envelope again to its original subject, then deletes the dead letter.

Replay is at least once, like every delivery: a crash between the publish and
the delete leaves the dead letter in place, and replaying it again is harmless
because every consumer is idempotent. For the same reason, one replay serves
every consumer that dead-lettered the same message: those that handled it
already skip the copy.
"""

import asyncio
import json
import secrets
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import nats
import nats.errors
from nats.js import JetStreamContext
from nats.js.errors import NotFoundError

from shoplab.platform.messaging.brokers import is_amqp
from shoplab.platform.messaging.streams import DEAD_LETTER_PREFIX, Topology

ORIGINAL_SUBJECT = "Shoplab-Original-Subject"
CONSUMER = "Shoplab-Consumer"
ERROR = "Shoplab-Error"
DELIVERIES = "Shoplab-Deliveries"
CONNECT_TIMEOUT_SECONDS = 5.0


class BrokerUnreachable(ConnectionError):
    """No broker answers at the broker URL."""


class DeadLetterNotFound(LookupError):
    """No dead letter carries this message id."""


@dataclass(frozen=True)
class DeadLetter:
    sequence: int
    """Its place in the dead-letter stream."""
    message_id: str
    """Empty when the data is not a readable envelope."""
    type: str
    original_subject: str
    consumer: str
    deliveries: int | None
    error: str
    dead_lettered_at: datetime | None
    data: bytes
    """The original envelope, byte for byte."""

    def envelope(self) -> dict[str, Any] | None:
        return parse_envelope(self.data)


@dataclass(frozen=True)
class Replayed:
    letter: DeadLetter
    stream: str
    """The stream that stored the republished message."""
    sequence: int
    removed: int
    """Dead letters deleted: one per consumer that gave up on the message."""


async def list_dead_letters(broker_url: str, topology: Topology | None = None) -> list[DeadLetter]:
    """Every dead letter, oldest first; none when the stream does not exist yet."""
    if is_amqp(broker_url):
        from shoplab.runtime import rabbit_admin

        return await rabbit_admin.list_dead_letters(broker_url, topology or Topology())
    async with _jetstream(broker_url) as js:
        return await _read_all(js, topology or Topology())


async def replay_dead_letter(
    broker_url: str, message_id: str, topology: Topology | None = None
) -> Replayed:
    """Publish the message again to its original subject, then delete its dead letters.

    The copy carries a new de-duplication id (``Nats-Msg-Id``): the original one
    may still be inside the stream's duplicate window, which would drop it.
    """
    topology = topology or Topology()
    if is_amqp(broker_url):
        from shoplab.runtime import rabbit_admin

        return await rabbit_admin.replay_dead_letter(broker_url, message_id, topology)
    async with _jetstream(broker_url) as js:
        letters = [
            letter for letter in await _read_all(js, topology) if letter.message_id == message_id
        ]
        if not letters:
            raise DeadLetterNotFound(message_id)
        first = letters[0]
        if not first.original_subject:
            raise ValueError(f"dead letter {first.sequence} does not say its original subject")
        headers = {"Nats-Msg-Id": f"replay-{message_id}-{secrets.token_hex(6)}"}
        ack = await js.publish(topology.wire(first.original_subject), first.data, headers=headers)
        for letter in letters:
            await js.delete_msg(topology.dead_letters(), letter.sequence)
        return Replayed(first, ack.stream, ack.seq, len(letters))


@asynccontextmanager
async def _jetstream(broker_url: str) -> AsyncIterator[JetStreamContext]:
    async def ignore(_: Exception) -> None:
        """Connection errors surface as exceptions; the client's log line adds nothing."""

    try:
        client = await asyncio.wait_for(
            nats.connect(
                broker_url,
                connect_timeout=2,
                allow_reconnect=False,
                max_reconnect_attempts=1,  # 0 would mean "retry forever" at connect
                error_cb=ignore,
            ),
            CONNECT_TIMEOUT_SECONDS,
        )
    except (OSError, TimeoutError, nats.errors.Error) as error:
        raise BrokerUnreachable(f"no NATS server answers at {broker_url}") from error
    try:
        yield client.jetstream(timeout=5.0)
    finally:
        await client.close()


async def _read_all(js: JetStreamContext, topology: Topology) -> list[DeadLetter]:
    """Walk the stream by sequence, skipping the gaps that deleted letters leave."""
    letters: list[DeadLetter] = []
    sequence = 1
    while True:
        try:
            raw = await js.get_msg(
                topology.dead_letters(),
                seq=sequence,
                subject=topology.wire(f"{DEAD_LETTER_PREFIX}.>"),
                next=True,
            )
        except NotFoundError:  # no stream yet, or nothing at or after ``sequence``
            return letters
        assert raw.seq is not None
        letters.append(_dead_letter(raw.seq, raw.data or b"", raw.headers or {}, raw.time))
        sequence = raw.seq + 1


def _dead_letter(
    sequence: int, data: bytes, headers: dict[str, str], time: datetime | None
) -> DeadLetter:
    envelope = parse_envelope(data) or {}
    deliveries = headers.get(DELIVERIES, "")
    return DeadLetter(
        sequence=sequence,
        message_id=str(envelope.get("message_id", "")),
        type=str(envelope.get("type", "")),
        original_subject=headers.get(ORIGINAL_SUBJECT) or str(envelope.get("subject", "")),
        consumer=headers.get(CONSUMER, ""),
        deliveries=int(deliveries) if deliveries.isdigit() else None,
        error=headers.get(ERROR, ""),
        dead_lettered_at=time,
        data=data,
    )


def parse_envelope(data: bytes) -> dict[str, Any] | None:
    """The envelope as a dict, or None for bytes that are not a JSON object."""
    try:
        value = json.loads(data)
    except ValueError:
        return None
    return value if isinstance(value, dict) else None
