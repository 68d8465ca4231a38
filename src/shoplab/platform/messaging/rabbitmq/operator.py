"""A short connection to RabbitMQ for one operator request, its failures in the seam's words."""

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import aio_pika
from aio_pika.abc import AbstractConnection
from aiormq.exceptions import AMQPConnectionError, AMQPError

from shoplab.platform.messaging.errors import BrokerRefused, BrokerUnreachable

CONNECT_TIMEOUT_SECONDS = 5.0


@asynccontextmanager
async def operator_connection(url: str) -> AsyncIterator[AbstractConnection]:
    """Connected once, never reconnecting: the request fails rather than waits for a server.

    Raises ``BrokerUnreachable`` when no server answers, and ``BrokerRefused`` for an
    AMQP error, or a confirm that did not come in time, inside the block.
    """
    try:
        connection = await asyncio.wait_for(aio_pika.connect(url), CONNECT_TIMEOUT_SECONDS)
    except (OSError, TimeoutError, AMQPConnectionError) as error:
        raise BrokerUnreachable(f"no RabbitMQ server answers at {url}") from error
    try:
        yield connection
    except (AMQPError, TimeoutError) as error:
        raise BrokerRefused(f"the broker refused: {error!r}") from error
    finally:
        await connection.close()
