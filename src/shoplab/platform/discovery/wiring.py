"""Discovery as the settings choose it: what a service host and the gateway call.

``SHOPLAB_DISCOVERY=registry`` (the default): each instance holds its entry in
the NATS key-value registry and callers watch it (``registry.RegistryDiscovery``,
on the NATS of ``SHOPLAB_BROKER_URL``).
``SHOPLAB_DISCOVERY=dns``: nothing registers, since Kubernetes knows the pods;
callers look names up.
``SHOPLAB_DISCOVERY=static``: nothing registers either; the runtime, which gave
every instance its ports, lists them all in ``SHOPLAB_DISCOVERY_INSTANCES``. Runs
on RabbitMQ use it, since the registry is a NATS key-value bucket.

The registry's adapter is imported only when chosen, so a process that looks
names up never loads the NATS client for it.
"""

import contextlib
from contextlib import AbstractAsyncContextManager

from shoplab.platform.discovery.dns import DnsResolver
from shoplab.platform.discovery.instance import Instance
from shoplab.platform.discovery.resolver import Discovery, Resolver
from shoplab.platform.discovery.static import StaticResolver
from shoplab.platform.messaging.brokers import is_nats
from shoplab.platform.messaging.streams import Topology
from shoplab.platform.settings import PlatformSettings


class WithoutRegistry:
    """Discovery by a resolver alone (DNS, a static list, one a test gives): nothing registers."""

    def __init__(self, resolver: Resolver) -> None:
        self.resolver = resolver

    async def start(self) -> None:
        await self.resolver.start()

    async def stop(self) -> None:
        await self.resolver.stop()

    async def instances(self, service: str) -> list[Instance]:
        return await self.resolver.instances(service)

    def registered(self, instance: Instance) -> AbstractAsyncContextManager[object]:
        return contextlib.nullcontext()


def local_instance(service: str, settings: PlatformSettings, ports: dict[str, int]) -> Instance:
    """This process as callers should reach it: ``SHOPLAB_INSTANCE`` is its id."""
    return Instance(
        service=service, id=settings.instance, host=settings.discovery_host, ports=ports
    )


def discovery_from_settings(settings: PlatformSettings, *, name: str = "") -> Discovery:
    """The discovery that ``SHOPLAB_DISCOVERY`` names; the registry needs a NATS broker URL.

    ``name`` names the registry's connection on the server (the process's name).
    """
    if settings.discovery == "dns":
        return WithoutRegistry(
            DnsResolver(
                settings.discovery_dns_template,
                settings.discovery_dns_namespace,
                settings.discovery_dns_ports,
            )
        )
    if settings.discovery == "static":
        instances = [Instance.model_validate(i) for i in settings.discovery_instances]
        return WithoutRegistry(StaticResolver(instances))
    url = settings.broker_url
    if not url or not is_nats(url):
        raise ValueError(
            "the registry is a NATS JetStream key-value bucket and needs a nats:// "
            "SHOPLAB_BROKER_URL; without NATS use SHOPLAB_DISCOVERY=static (or dns)"
        )
    from shoplab.platform.discovery.registry.discovery import RegistryDiscovery

    topology = Topology(settings.broker_namespace)
    return RegistryDiscovery(url, topology, ttl=settings.discovery_ttl_seconds, name=name)
