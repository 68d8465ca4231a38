"""Dead letters on RabbitMQ: one quorum queue (``RabbitTopology.dead_letters``).

A queue cannot be read without taking its messages, so reading takes every one
on a channel without acking it, and holds them; when the connection closes,
RabbitMQ puts back every letter that was not removed. Republishing sends the
envelope again to its original subject with the same message id (the consumers'
inboxes skip it where it was handled already) and waits for the broker's
confirm; removing acks the letters taken, so only then are they gone.
"""

from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager

import aio_pika
from aio_pika.abc import AbstractChannel, AbstractIncomingMessage

from shoplab.platform.messaging.dead_letters import DeadLetter, DeadLetters, Stored, read_letter
from shoplab.platform.messaging.rabbitmq.operator import operator_connection
from shoplab.platform.messaging.rabbitmq.topology import (
    RabbitTopology,
    declare_dead_letters,
    declare_exchange,
)
from shoplab.platform.messaging.streams import Topology

PUBLISH_TIMEOUT_SECONDS = 5.0


class RabbitDeadLetters:
    """The dead-letter queue of one run: letters taken on ``taking``, replays on ``publishing``."""

    def __init__(
        self, taking: AbstractChannel, publishing: AbstractChannel, names: RabbitTopology
    ) -> None:
        self._taking = taking
        self._publishing = publishing
        self._names = names
        self._taken: dict[int, AbstractIncomingMessage] = {}

    async def read(self) -> list[DeadLetter]:
        """Every letter, in queue order; each read takes the letters not taken yet."""
        await declare_dead_letters(self._taking, self._names)
        queue = await self._taking.get_queue(self._names.dead_letters, ensure=False)
        while (message := await queue.get(no_ack=False, fail=False)) is not None:
            self._taken[len(self._taken) + 1] = message
        return [_letter(sequence, message) for sequence, message in self._taken.items()]

    async def republish(self, letter: DeadLetter) -> Stored:
        exchange = await declare_exchange(self._publishing, self._names)
        await exchange.publish(
            aio_pika.Message(
                letter.data,
                message_id=letter.message_id,
                content_type="application/json",
                delivery_mode=aio_pika.DeliveryMode.PERSISTENT,
            ),
            self._names.routing_key(letter.original_subject),
            timeout=PUBLISH_TIMEOUT_SECONDS,
        )
        return Stored(self._names.exchange, letter.sequence)

    async def remove(self, letters: Sequence[DeadLetter]) -> None:
        for letter in letters:
            await self._taken.pop(letter.sequence).ack()


@asynccontextmanager
async def rabbit_dead_letters(url: str, topology: Topology) -> AsyncIterator[DeadLetters]:
    async with operator_connection(url) as connection:
        taking = await connection.channel()
        publishing = await connection.channel()
        yield RabbitDeadLetters(taking, publishing, RabbitTopology(topology))
        await taking.close()  # unacked: every letter not removed goes back to the queue


def _letter(sequence: int, message: AbstractIncomingMessage) -> DeadLetter:
    headers = {key: _text(value) for key, value in (message.headers or {}).items()}
    return read_letter(sequence, message.body, headers, message.timestamp)


def _text(value: object) -> str:
    return value.decode(errors="replace") if isinstance(value, bytes) else str(value)
