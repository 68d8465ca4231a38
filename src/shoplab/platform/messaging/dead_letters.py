"""Dead letters, whichever the broker: what a letter says, and what an operator can do with it.

A consumer that gives up on a message copies it, byte for byte, to the dead
letters (``SHOPLAB_DLQ`` on JetStream, the queue ``shoplab.dlq`` on RabbitMQ)
with four headers saying where it came from and why it failed. Both adapters
write them with ``letter_headers`` and read them back with ``read_letter``:
these are the only definitions of the header names.

``DeadLetters`` is what the operator's tools need from a broker to list and
replay them; ``brokers.open_dead_letters`` picks the adapter by the URL.
"""

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

ORIGINAL_SUBJECT = "Shoplab-Original-Subject"
CONSUMER = "Shoplab-Consumer"
ERROR = "Shoplab-Error"
DELIVERIES = "Shoplab-Deliveries"
ERROR_LIMIT = 1000
"""Characters of the error kept in a header: enough for a reason, never a whole traceback."""


class DeadLetterNotFound(LookupError):
    """No dead letter carries this message id."""


@dataclass(frozen=True)
class DeadLetter:
    sequence: int
    """Its place among the dead letters."""
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
class Stored:
    """Where the broker stored a republished message."""

    stream: str
    sequence: int


class DeadLetters(Protocol):
    """The dead letters of one run, on one open connection to its broker."""

    async def read(self) -> list[DeadLetter]:
        """Every dead letter, oldest first; none when there is nowhere to keep them yet."""

    async def republish(self, letter: DeadLetter) -> Stored:
        """Publish the letter's envelope again to its original subject; returns once stored."""

    async def remove(self, letters: Sequence[DeadLetter]) -> None:
        """Delete these letters (read on this connection) from the dead letters."""


def letter_headers(
    original_subject: str, consumer: str, error: Exception, deliveries: int
) -> dict[str, str]:
    """The headers a consumer puts on a message it gives up on."""
    return {
        ORIGINAL_SUBJECT: original_subject,
        CONSUMER: consumer,
        ERROR: repr(error)[:ERROR_LIMIT],
        DELIVERIES: str(deliveries),
    }


def read_letter(
    sequence: int, data: bytes, headers: Mapping[str, str], at: datetime | None
) -> DeadLetter:
    """A dead letter from what the broker kept: the envelope's bytes and the headers."""
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
        dead_lettered_at=at,
        data=data,
    )


def parse_envelope(data: bytes) -> dict[str, Any] | None:
    """The envelope as a dict, or None for bytes that are not a JSON object."""
    try:
        value = json.loads(data)
    except ValueError:
        return None
    return value if isinstance(value, dict) else None
