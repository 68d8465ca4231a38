"""The operator's broker commands on RabbitMQ: fault orders and dead letters.

``dead_letters`` and ``faults`` call these when the run's broker is ``amqp://``.

Dead letters sit in one quorum queue (``RabbitTopology.dead_letters``). A queue
cannot be read without taking its messages, so listing takes every one on a
channel without acking it, then closes the channel: RabbitMQ puts them all back.
Replaying publishes the envelope again to its original subject (same message id:
the consumers' inboxes skip it where it was handled already), waits for the
broker's confirm, and only then acks, so removes, its dead letters.
"""

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import aio_pika
from aio_pika.abc import AbstractChannel, AbstractIncomingMessage, AbstractRobustConnection
from aiormq.exceptions import AMQPConnectionError

from shoplab.platform.faults import FaultOrder, control_subject
from shoplab.platform.messaging.rabbitmq.bus import CONSUMER, DELIVERIES, ERROR, ORIGINAL_SUBJECT
from shoplab.platform.messaging.rabbitmq.topology import (
    RabbitTopology,
    declare_dead_letters,
    declare_exchange,
)
from shoplab.platform.messaging.streams import Topology
from shoplab.runtime.dead_letters import (
    BrokerUnreachable,
    DeadLetter,
    DeadLetterNotFound,
    Replayed,
    parse_envelope,
)

CONNECT_TIMEOUT_SECONDS = 5.0
PUBLISH_TIMEOUT_SECONDS = 5.0


@asynccontextmanager
async def _connected(url: str) -> AsyncIterator[AbstractRobustConnection]:
    try:
        connection = await asyncio.wait_for(aio_pika.connect(url), CONNECT_TIMEOUT_SECONDS)
    except (OSError, TimeoutError, AMQPConnectionError) as error:
        raise BrokerUnreachable(f"no RabbitMQ server answers at {url}") from error
    try:
        yield connection  # type: ignore[misc]
    finally:
        await connection.close()


async def send_fault(
    url: str, topology: Topology, service: str, order: FaultOrder, *, instances: int, wait: float
) -> list[dict[str, Any]]:
    """Publish ``order`` to every instance of ``service``; the answers that came back."""
    names = RabbitTopology(topology)
    answers: list[dict[str, Any]] = []
    everyone = asyncio.Event()
    async with _connected(url) as connection:
        channel = await connection.channel()
        exchange = await declare_exchange(channel, names)
        replies = await channel.declare_queue(exclusive=True, auto_delete=True)

        async def collect(message: AbstractIncomingMessage) -> None:
            answers.append(json.loads(message.body))
            if len(answers) >= instances:
                everyone.set()

        await replies.consume(collect, no_ack=True)
        await exchange.publish(
            aio_pika.Message(order.model_dump_json().encode(), reply_to=replies.name),
            names.routing_key(control_subject(service)),
        )
        with contextlib.suppress(TimeoutError):  # some instance did not answer: the caller says
            await asyncio.wait_for(everyone.wait(), wait)
    return sorted(answers, key=lambda answer: str(answer.get("instance", "")))


async def list_dead_letters(url: str, topology: Topology) -> list[DeadLetter]:
    async with _connected(url) as connection:
        channel = await connection.channel()
        letters = [letter for letter, _ in await _take_all(channel, RabbitTopology(topology))]
        await channel.close()  # unacked: every letter goes back to the queue
        return letters


async def replay_dead_letter(url: str, message_id: str, topology: Topology) -> Replayed:
    names = RabbitTopology(topology)
    async with _connected(url) as connection:
        channel = await connection.channel()
        taken = await _take_all(channel, names)
        matching = [(letter, raw) for letter, raw in taken if letter.message_id == message_id]
        if not matching:
            raise DeadLetterNotFound(message_id)
        first = matching[0][0]
        if not first.original_subject:
            raise ValueError(f"dead letter {first.sequence} does not say its original subject")
        publisher = await connection.channel()
        exchange = await declare_exchange(publisher, names)
        await exchange.publish(
            aio_pika.Message(
                first.data,
                message_id=first.message_id,
                content_type="application/json",
                delivery_mode=aio_pika.DeliveryMode.PERSISTENT,
            ),
            names.routing_key(first.original_subject),
            timeout=PUBLISH_TIMEOUT_SECONDS,
        )
        for _, raw in matching:
            await raw.ack()
        await channel.close()
        return Replayed(first, names.exchange, first.sequence, len(matching))


async def _take_all(
    channel: AbstractChannel, names: RabbitTopology
) -> list[tuple[DeadLetter, AbstractIncomingMessage]]:
    await declare_dead_letters(channel, names)
    queue = await channel.get_queue(names.dead_letters, ensure=False)
    taken: list[tuple[DeadLetter, AbstractIncomingMessage]] = []
    while (message := await queue.get(no_ack=False, fail=False)) is not None:
        taken.append((_dead_letter(len(taken) + 1, message), message))
    return taken


def _dead_letter(sequence: int, message: AbstractIncomingMessage) -> DeadLetter:
    envelope = parse_envelope(message.body) or {}
    headers = {key: _text(value) for key, value in (message.headers or {}).items()}
    deliveries = headers.get(DELIVERIES, "")
    return DeadLetter(
        sequence=sequence,
        message_id=str(envelope.get("message_id", "")),
        type=str(envelope.get("type", "")),
        original_subject=headers.get(ORIGINAL_SUBJECT) or str(envelope.get("subject", "")),
        consumer=headers.get(CONSUMER, ""),
        deliveries=int(deliveries) if deliveries.isdigit() else None,
        error=headers.get(ERROR, ""),
        dead_lettered_at=message.timestamp,
        data=message.body,
    )


def _text(value: object) -> str:
    return value.decode(errors="replace") if isinstance(value, bytes) else str(value)
