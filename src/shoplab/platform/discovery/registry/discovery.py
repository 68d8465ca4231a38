"""Discovery through the registry, on a NATS connection of its own.

A process of the microservices mode opens this connection from the broker URL,
next to its bus, rather than borrowing the bus's. That keeps the bus seam what
every broker can offer: RabbitMQ has no key-value store, and a ``Bus`` that
handed out a JetStream context would be a NATS bus under another name, which the
host would have to test for. With a connection of its own, the registry is one
``Discovery`` among three (``wiring``), and the host and the gateway treat them
alike; the registry could even live on another NATS than the messages. It costs
one more connection per process to the same server.

The connection reconnects for ever: after a broker restart the heartbeats reopen
the bucket and the watch resyncs (see ``registration`` and ``resolver``).
"""

from contextlib import AbstractAsyncContextManager

import nats
from nats.aio.client import Client

from shoplab.platform.discovery.instance import Instance
from shoplab.platform.discovery.registry.registration import registered
from shoplab.platform.discovery.registry.resolver import RegistryResolver
from shoplab.platform.discovery.resolver import DEFAULT_TTL_SECONDS
from shoplab.platform.messaging.streams import Topology


class RegistryDiscovery:
    """The registry as one process uses it: it watches the others and holds its own entry."""

    def __init__(
        self, url: str, topology: Topology, *, ttl: float = DEFAULT_TTL_SECONDS, name: str = ""
    ) -> None:
        self.url = url
        self.ttl = ttl
        self._topology = topology
        self._name = name or "registry"
        self._connection: Client | None = None
        self._resolver: RegistryResolver | None = None

    async def start(self) -> None:
        """Connect, then return once the watch has loaded the registry."""
        self._connection = await nats.connect(
            self.url, name=self._name, max_reconnect_attempts=-1, reconnect_time_wait=1
        )
        self._resolver = RegistryResolver(
            self._connection.jetstream(), self._topology, ttl=self.ttl
        )
        await self._resolver.start()

    async def stop(self) -> None:
        if self._resolver is not None:
            await self._resolver.stop()
            self._resolver = None
        if self._connection is not None:
            await self._connection.close()
            self._connection = None

    async def instances(self, service: str) -> list[Instance]:
        return [] if self._resolver is None else self._resolver.live(service)

    def registered(self, instance: Instance) -> AbstractAsyncContextManager[object]:
        if self._connection is None:
            raise RuntimeError("start the registry's discovery before registering")
        return registered(self._connection.jetstream(), self._topology, instance, self.ttl)
