"""Service discovery: instances register with a TTL; callers balance over the live ones.

- ``registry``: the NATS key-value registry (the default): each instance holds its
  entry (put, heartbeat every TTL/3, delete on a clean exit), callers watch the bucket;
- ``DnsResolver``: the live instances from DNS names on Kubernetes; ``StaticResolver``:
  a list the runtime gives (runs on RabbitMQ);
- ``wiring.discovery_from_settings`` picks one of the three as a ``Discovery``;
- ``Balancer``: round robin over them, skipping instances a caller marked failed.

See docs/discovery.md.
"""

from shoplab.platform.discovery.balancer import Balancer, NoInstanceAvailable
from shoplab.platform.discovery.dns import DnsResolver
from shoplab.platform.discovery.instance import Instance
from shoplab.platform.discovery.resolver import DEFAULT_TTL_SECONDS, Discovery, Resolver
from shoplab.platform.discovery.static import StaticResolver
from shoplab.platform.discovery.wiring import (
    WithoutRegistry,
    discovery_from_settings,
    local_instance,
)

__all__ = [
    "DEFAULT_TTL_SECONDS",
    "Balancer",
    "Discovery",
    "DnsResolver",
    "Instance",
    "NoInstanceAvailable",
    "Resolver",
    "StaticResolver",
    "WithoutRegistry",
    "discovery_from_settings",
    "local_instance",
]
