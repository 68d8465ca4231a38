"""Dead letters on JetStream: the stream ``SHOPLAB_DLQ``, read by sequence.

Each dead letter is a message on ``shoplab.dlq.<consumer>`` (both prefixed by
the run's namespace, if it has one) whose data is the original envelope and
whose headers say where it came from and why it failed. A stream can be read
without consuming it, so reading takes nothing away; removing deletes by
sequence.
"""

import secrets
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager

from nats.js import JetStreamContext
from nats.js.errors import NotFoundError

from shoplab.platform.messaging.dead_letters import DeadLetter, DeadLetters, Stored, read_letter
from shoplab.platform.messaging.jetstream.operator import operator_connection
from shoplab.platform.messaging.streams import DEAD_LETTER_PREFIX, Topology

REQUEST_TIMEOUT_SECONDS = 5.0


class NatsDeadLetters:
    """The dead-letter stream of one run, on a JetStream context."""

    def __init__(self, js: JetStreamContext, topology: Topology) -> None:
        self._js = js
        self._topology = topology

    async def read(self) -> list[DeadLetter]:
        """Walk the stream by sequence, skipping the gaps that deleted letters leave."""
        letters: list[DeadLetter] = []
        sequence = 1
        while True:
            try:
                raw = await self._js.get_msg(
                    self._topology.dead_letters(),
                    seq=sequence,
                    subject=self._topology.wire(f"{DEAD_LETTER_PREFIX}.>"),
                    next=True,
                )
            except NotFoundError:  # no stream yet, or nothing at or after ``sequence``
                return letters
            assert raw.seq is not None
            letters.append(read_letter(raw.seq, raw.data or b"", raw.headers or {}, raw.time))
            sequence = raw.seq + 1

    async def republish(self, letter: DeadLetter) -> Stored:
        """The copy carries a new de-duplication id (``Nats-Msg-Id``): the original one
        may still be inside the stream's duplicate window, which would drop it."""
        headers = {"Nats-Msg-Id": f"replay-{letter.message_id}-{secrets.token_hex(6)}"}
        subject = self._topology.wire(letter.original_subject)
        ack = await self._js.publish(subject, letter.data, headers=headers)
        return Stored(ack.stream, ack.seq)

    async def remove(self, letters: Sequence[DeadLetter]) -> None:
        for letter in letters:
            await self._js.delete_msg(self._topology.dead_letters(), letter.sequence)


@asynccontextmanager
async def nats_dead_letters(url: str, topology: Topology) -> AsyncIterator[DeadLetters]:
    async with operator_connection(url) as client:
        yield NatsDeadLetters(client.jetstream(timeout=REQUEST_TIMEOUT_SECONDS), topology)
