"""The broker seam: what a service needs from its broker, whichever broker it is.

``NatsBus`` (JetStream) and ``RabbitBus`` (RabbitMQ) both provide it, with the
same guarantees: a publish returns only once the broker stored the message;
consumers are durable and ack after the handler's transaction committed; a
message that keeps failing goes to the dead letters. ``brokers.open_bus`` picks
one by the URL's scheme; see docs/brokers.md.
"""

import asyncio
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import Any, Protocol

from shoplab.contracts.envelope import Envelope
from shoplab.platform.messaging.consumers import Subscription


class Bus(Protocol):
    system: str
    """The broker's name on spans (``messaging.system``): ``nats`` or ``rabbitmq``."""

    def subscribe(self, subscriptions: Sequence[Subscription]) -> None:
        """Register durable consumers; call before ``start``."""

    async def start(self) -> None: ...

    async def stop(self) -> None: ...

    async def connected(self) -> bool: ...

    async def publish(self, envelope: Envelope) -> None:
        """Raises ``PublisherUnavailable`` unless the broker stored the message."""

    async def publish_stored(
        self,
        subject: str,
        message_id: str,
        body: bytes,
        headers: Mapping[str, str],
        message_type: str,
    ) -> "asyncio.Future[Any]":
        """Send an outbox row's bytes as they are stored, with ``headers`` (the trace's);
        the future ends once the broker stored the message, or fails. Raises
        ``PublisherUnavailable`` at once when the broker cannot be reached."""
        ...

    async def answer(self, subject: str, handle: Callable[[bytes], Awaitable[bytes]]) -> None:
        """Answer control requests on a wired subject; every live instance gets each one."""
