"""The discovery seam: where callers learn the live instances of a service, and how an
instance lets them learn of it.

``Resolver`` answers the first question, three ways, chosen by ``SHOPLAB_DISCOVERY``
(see ``wiring``): ``RegistryDiscovery`` (the NATS key-value registry, the default),
``DnsResolver`` (names, on Kubernetes) and ``StaticResolver`` (a list the runtime gives).
``Discovery`` adds the second: only the registry needs an instance to register; with
the others ``registered`` does nothing, since DNS or the runtime already knows it.
"""

from contextlib import AbstractAsyncContextManager
from typing import Protocol

from shoplab.platform.discovery.instance import Instance

DEFAULT_TTL_SECONDS = 10.0
"""How long an instance stays known without a sign of life (``SHOPLAB_DISCOVERY_TTL_SECONDS``)."""


class Resolver(Protocol):
    async def start(self) -> None:
        """Begin following changes; return once the resolver can answer."""

    async def stop(self) -> None: ...

    async def instances(self, service: str) -> list[Instance]:
        """The live instances of ``service``, in a stable order; empty when none."""


class Discovery(Resolver, Protocol):
    def registered(self, instance: Instance) -> AbstractAsyncContextManager[object]:
        """Keep ``instance`` findable for the duration of the block (call after ``start``)."""
