"""A short connection to NATS for one operator request, its failures in the seam's words."""

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import nats
import nats.errors
from nats.aio.client import Client

from shoplab.platform.messaging.errors import BrokerRefused, BrokerUnreachable

CONNECT_TIMEOUT_SECONDS = 5.0


@asynccontextmanager
async def operator_connection(url: str) -> AsyncIterator[Client]:
    """Connected once, never reconnecting: the request fails rather than waits for a server.

    Raises ``BrokerUnreachable`` when no server answers, and ``BrokerRefused`` for a
    NATS error inside the block.
    """

    async def ignore(_: Exception) -> None:
        """Connection errors surface as exceptions; the client's log line adds nothing."""

    try:
        client = await asyncio.wait_for(
            nats.connect(
                url,
                connect_timeout=2,
                allow_reconnect=False,
                max_reconnect_attempts=1,  # 0 would mean "retry forever" at connect
                error_cb=ignore,
            ),
            CONNECT_TIMEOUT_SECONDS,
        )
    except (OSError, TimeoutError, nats.errors.Error) as error:
        raise BrokerUnreachable(f"no NATS server answers at {url}") from error
    try:
        yield client
    except nats.errors.Error as error:
        raise BrokerRefused(f"the broker refused: {error}") from error
    finally:
        await client.close()
