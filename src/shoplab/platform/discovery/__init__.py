"""Service discovery: instances register with a TTL; callers balance over the live ones.

- ``registration.registered``: hold this instance in the NATS key-value registry
  (put, heartbeat every TTL/3, delete on a clean exit);
- ``RegistryResolver`` / ``DnsResolver``: the live instances of a service, from
  the registry's watch or from DNS names on Kubernetes; ``StaticResolver``: a list
  the runtime gives (runs on RabbitMQ) (``wiring`` picks one from the settings);
- ``Balancer``: round robin over them, skipping instances a caller marked failed.

See docs/discovery.md.
"""

from shoplab.platform.discovery.balancer import Balancer, NoInstanceAvailable
from shoplab.platform.discovery.bucket import DEFAULT_TTL_SECONDS, bucket_name, open_bucket
from shoplab.platform.discovery.dns import DnsResolver
from shoplab.platform.discovery.instance import Instance
from shoplab.platform.discovery.registration import Registration, registered
from shoplab.platform.discovery.registry_resolver import RegistryResolver
from shoplab.platform.discovery.resolver import Resolver
from shoplab.platform.discovery.static import StaticResolver
from shoplab.platform.discovery.wiring import local_instance, resolver_from_settings, uses_registry

__all__ = [
    "DEFAULT_TTL_SECONDS",
    "Balancer",
    "DnsResolver",
    "Instance",
    "NoInstanceAvailable",
    "Registration",
    "RegistryResolver",
    "Resolver",
    "StaticResolver",
    "bucket_name",
    "local_instance",
    "open_bucket",
    "registered",
    "resolver_from_settings",
    "uses_registry",
]
