"""The resolver seam: where callers learn the live instances of a service.

Two implementations answer it, chosen by ``SHOPLAB_DISCOVERY`` (see ``wiring``):
``RegistryResolver`` (the NATS key-value registry, the default) and
``DnsResolver`` (names, on Kubernetes).
"""

from typing import Protocol

from shoplab.platform.discovery.instance import Instance


class Resolver(Protocol):
    async def start(self) -> None:
        """Begin following changes; return once the resolver can answer."""

    async def stop(self) -> None: ...

    async def instances(self, service: str) -> list[Instance]:
        """The live instances of ``service``, in a stable order; empty when none."""
