"""Discovery as the settings choose it: what a service host and the gateway call.

``SHOPLAB_DISCOVERY=registry`` (the default): each instance holds its entry in
the NATS key-value registry (``registration.registered``) and callers watch it.
``SHOPLAB_DISCOVERY=dns``: nothing registers, since Kubernetes knows the pods;
callers look names up.
``SHOPLAB_DISCOVERY=static``: nothing registers either; the runtime, which gave
every instance its ports, lists them all in ``SHOPLAB_DISCOVERY_INSTANCES``. Runs
on RabbitMQ use it, since the registry is a NATS key-value bucket.
"""

from nats.js import JetStreamContext

from shoplab.platform.discovery.dns import DnsResolver
from shoplab.platform.discovery.instance import Instance
from shoplab.platform.discovery.registry_resolver import RegistryResolver
from shoplab.platform.discovery.resolver import Resolver
from shoplab.platform.discovery.static import StaticResolver
from shoplab.platform.messaging.streams import Topology
from shoplab.platform.settings import PlatformSettings


def uses_registry(settings: PlatformSettings) -> bool:
    """True when instances must register themselves."""
    return settings.discovery == "registry"


def local_instance(service: str, settings: PlatformSettings, ports: dict[str, int]) -> Instance:
    """This process as callers should reach it: ``SHOPLAB_INSTANCE`` is its id."""
    return Instance(
        service=service, id=settings.instance, host=settings.discovery_host, ports=ports
    )


def resolver_from_settings(
    settings: PlatformSettings, js: JetStreamContext | None = None
) -> Resolver:
    """The resolver that ``SHOPLAB_DISCOVERY`` names; the registry's needs a JetStream context."""
    if settings.discovery == "dns":
        return DnsResolver(
            settings.discovery_dns_template,
            settings.discovery_dns_namespace,
            settings.discovery_dns_ports,
        )
    if settings.discovery == "static":
        return StaticResolver([Instance.model_validate(i) for i in settings.discovery_instances])
    if js is None:
        raise ValueError(
            "the registry resolver needs NATS JetStream; without NATS use SHOPLAB_DISCOVERY=static"
        )
    return RegistryResolver(
        js, Topology(settings.broker_namespace), ttl=settings.discovery_ttl_seconds
    )
