"""The broker seam: what a service needs from its broker, whichever broker it is.

``NatsBus`` (JetStream) and ``RabbitBus`` (RabbitMQ) both provide it, with the
same guarantees: a publish returns only once the broker stored the message;
consumers are durable and ack after the handler's transaction committed; a
message that keeps failing goes to the dead letters. ``open_bus`` picks one by
the URL's scheme (``nats://`` or ``amqp://``); see docs/brokers.md.
"""

from collections.abc import Awaitable, Callable, Sequence
from typing import Protocol
from urllib.parse import urlsplit

from shoplab.contracts.envelope import Envelope
from shoplab.platform.messaging import Subscription
from shoplab.platform.settings import PlatformSettings
from shoplab.platform.streams import Retention, Topology

AMQP_SCHEMES = frozenset({"amqp", "amqps"})
NATS_SCHEMES = frozenset({"nats", "tls"})


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

    async def answer(self, subject: str, handle: Callable[[bytes], Awaitable[bytes]]) -> None:
        """Answer control requests on a wired subject; every live instance gets each one."""


def is_amqp(url: str) -> bool:
    return urlsplit(url).scheme in AMQP_SCHEMES


def is_nats(url: str) -> bool:
    return urlsplit(url).scheme in NATS_SCHEMES


def open_bus(url: str, *, service: str, settings: PlatformSettings) -> Bus:
    """The bus for ``url``: RabbitMQ for ``amqp://``, NATS JetStream otherwise."""
    topology = Topology(settings.broker_namespace, Retention.from_settings(settings))
    if is_amqp(url):
        from shoplab.platform.rabbit_bus import RabbitBus

        return RabbitBus(
            url,
            service=service,
            max_deliveries=settings.max_deliveries,
            topology=topology,
        )
    from shoplab.platform.nats_bus import NatsBus

    return NatsBus(url, service=service, max_deliveries=settings.max_deliveries, topology=topology)
