"""Control requests on NATS: one request on a core subject, an answer from every instance.

The request goes out with a reply inbox; every instance subscribed to the
subject (``NatsBus.answer``) answers there once. When nobody listens, the server
itself writes a status message (503, no responders) to the inbox: that is no
answer, and is not counted as one.
"""

import asyncio
import contextlib

from nats.aio.msg import Msg
from nats.js.api import Header

from shoplab.platform.messaging.jetstream.operator import operator_connection
from shoplab.platform.messaging.streams import Topology


async def ask_every(
    url: str, topology: Topology, subject: str, body: bytes, *, answers: int, wait: float
) -> list[bytes]:
    """Send ``body`` on ``subject``; the answers that came back, up to ``answers``, within
    ``wait`` seconds."""
    received: list[bytes] = []
    everyone = asyncio.Event()
    async with operator_connection(url) as connection:
        inbox = connection.new_inbox()

        async def collect(message: Msg) -> None:
            if message.headers and Header.STATUS in message.headers:
                return
            received.append(message.data)
            if len(received) >= answers:
                everyone.set()

        subscription = await connection.subscribe(inbox, cb=collect)
        await connection.publish(topology.wire(subject), body, reply=inbox)
        with contextlib.suppress(TimeoutError):  # some instance did not answer: the caller says
            await asyncio.wait_for(everyone.wait(), wait)
        await subscription.unsubscribe()
    return received
