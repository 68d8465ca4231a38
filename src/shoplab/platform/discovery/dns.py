"""Finding instances by DNS name: the resolver for Kubernetes, where no registry runs.

On Kubernetes the platform already knows every live pod: a Service's name
resolves to its pods' addresses, and a pod that dies or fails its readiness
probe leaves the answer. The registry would only repeat that, so
``SHOPLAB_DISCOVERY=dns`` replaces it with a name per service, from a template
such as ``{service}.{namespace}.svc.cluster.local``, and the ports every pod of
a service listens on.

Declare the Services *headless* (``clusterIP: None``): the name then resolves to
every ready pod and the client-side balancer spreads calls over them. A normal
Service resolves to one virtual address; kube-proxy balances connections, not
calls, so long-lived gRPC (HTTP/2) connections would all stay on one pod.

Answers are kept ``cache_seconds``; when a lookup fails for a moment, the last
good answer is kept rather than leaving callers with nothing.
"""

import asyncio
import socket
import time
from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime
from typing import Any

import structlog

from shoplab.platform.discovery.instance import Instance
from shoplab.platform.time import now

log = structlog.get_logger(__name__)

AddrInfo = tuple[Any, ...]
"""One result of ``getaddrinfo``: ``(family, type, proto, canonname, sockaddr)``."""
Lookup = Callable[[str], Awaitable[Sequence[AddrInfo]]]

DEFAULT_TEMPLATE = "{service}.{namespace}.svc.cluster.local"
DEFAULT_CACHE_SECONDS = 5.0
_NO_SUCH_NAME = frozenset({socket.EAI_NONAME, getattr(socket, "EAI_NODATA", socket.EAI_NONAME)})
"""The name does not exist (a headless Service with no ready pod): no instances, for sure."""


def render_name(template: str, service: str, namespace: str) -> str:
    """The DNS name of ``service``; ValueError for a template with other placeholders."""
    if "{service}" not in template:
        raise ValueError(f"a DNS name template needs {{service}}: {template!r}")
    try:
        return template.format(service=service, namespace=namespace)
    except (KeyError, IndexError, ValueError) as error:
        raise ValueError(
            f"a DNS name template may use {{service}} and {{namespace}} only: {template!r}"
        ) from error


def instances_from_addrinfo(
    service: str, answers: Sequence[AddrInfo], ports: dict[str, int], at: datetime
) -> list[Instance]:
    """One instance per distinct address, in sorted order; the address is its id."""
    hosts = sorted({str(sockaddr[0]) for *_, sockaddr in answers})
    return [
        Instance(
            service=service,
            id=host.replace(":", "-").replace(".", "-").replace("%", "-"),
            host=host,
            ports=ports,
            version="",
            registered_at=at,
        )
        for host in hosts
    ]


async def system_lookup(name: str) -> Sequence[AddrInfo]:
    """The resolver of the operating system, without blocking the event loop."""
    loop = asyncio.get_running_loop()
    return await loop.getaddrinfo(name, None, type=socket.SOCK_STREAM)


class DnsResolver:
    """Live instances per service, from DNS names; same interface as the registry's."""

    def __init__(
        self,
        template: str,
        namespace: str,
        ports: dict[str, int],
        *,
        cache_seconds: float = DEFAULT_CACHE_SECONDS,
        lookup: Lookup = system_lookup,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        render_name(template, "check", namespace)
        self._template = template
        self._namespace = namespace
        self._ports = dict(ports)
        self._cache_seconds = cache_seconds
        self._lookup = lookup
        self._clock = clock
        self._cache: dict[str, tuple[float, list[Instance]]] = {}

    def name(self, service: str) -> str:
        return render_name(self._template, service, self._namespace)

    async def start(self) -> None:
        """Nothing to start: names are looked up when first asked for."""

    async def stop(self) -> None:
        self._cache.clear()

    async def instances(self, service: str) -> list[Instance]:
        cached = self._cache.get(service)
        if cached is not None and self._clock() - cached[0] < self._cache_seconds:
            return cached[1]
        name = self.name(service)
        try:
            answers = await self._lookup(name)
        except socket.gaierror as error:
            log.warning("DNS lookup failed", name=name, error=str(error))
            if error.errno not in _NO_SUCH_NAME:
                return cached[1] if cached is not None else []
            found: list[Instance] = []
        else:
            found = instances_from_addrinfo(service, answers, self._ports, now())
        self._cache[service] = (self._clock(), found)
        return found
