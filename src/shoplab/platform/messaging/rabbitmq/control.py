"""Control requests on RabbitMQ: routed by the control subject, answered on a reply queue.

Every instance has an exclusive queue bound by the subject (``RabbitBus.answer``), so
each one gets the request and answers once on the request's ``reply_to`` queue.
"""

import asyncio
import contextlib

import aio_pika
from aio_pika.abc import AbstractIncomingMessage

from shoplab.platform.messaging.rabbitmq.operator import operator_connection
from shoplab.platform.messaging.rabbitmq.topology import RabbitTopology, declare_exchange
from shoplab.platform.messaging.streams import Topology


async def ask_every(
    url: str, topology: Topology, subject: str, body: bytes, *, answers: int, wait: float
) -> list[bytes]:
    """Send ``body`` on ``subject``; the answers that came back, up to ``answers``, within
    ``wait`` seconds."""
    names = RabbitTopology(topology)
    received: list[bytes] = []
    everyone = asyncio.Event()
    async with operator_connection(url) as connection:
        channel = await connection.channel()
        exchange = await declare_exchange(channel, names)
        replies = await channel.declare_queue(exclusive=True, auto_delete=True)

        async def collect(message: AbstractIncomingMessage) -> None:
            received.append(message.body)
            if len(received) >= answers:
                everyone.set()

        await replies.consume(collect, no_ack=True)
        await exchange.publish(
            aio_pika.Message(body, reply_to=replies.name), names.routing_key(subject)
        )
        with contextlib.suppress(TimeoutError):  # some instance did not answer: the caller says
            await asyncio.wait_for(everyone.wait(), wait)
    return received
