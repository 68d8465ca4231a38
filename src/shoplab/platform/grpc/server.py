"""The gRPC server a service runs next to its HTTP app (``grpc.aio``, in the same event loop).

A context offers its servicers as ``GrpcService`` values (see each context's
``entrypoints/grpc_api.py``); its bootstrap says who may call each one, as the list of
contexts names them (``contracts/contexts.py``).
``build_server`` refuses a service without an allow-list, so forgetting one fails at
start-up instead of serving everyone or no one.

Interceptors, outermost first: ``ServerMetricsInterceptor`` counts every call, refused
ones included; ``ServerTracing`` makes its span (a refused call's too, so that a trace
shows the refusal); ``ServiceAuthInterceptor`` refuses; later chassis interceptors (deadlines,
faults, telemetry) go after it, so they never run for a call that is refused anyway.
"""

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import grpc.aio
from google.protobuf import descriptor_pool
from prometheus_client import REGISTRY, CollectorRegistry

from shoplab.platform.grpc.auth import Callers, ServiceAuthInterceptor
from shoplab.platform.grpc.metrics import ServerMetricsInterceptor, grpc_metrics
from shoplab.platform.grpc.tracing import ServerTracing
from shoplab.platform.internal_auth import ServiceCredentials

LOOPBACK = "127.0.0.1"
STOP_GRACE_SECONDS = 5.0
"""Calls in flight at shutdown get this long to finish; new ones are refused at once."""

_OPTIONS = [
    # gRPC sets SO_REUSEPORT by default, which lets a second server bind a port in use and
    # silently share its calls. Each instance owns its port: a clash must be an error.
    ("grpc.so_reuseport", 0),
]


@dataclass(frozen=True)
class GrpcService:
    """One gRPC service a context offers: its full name, and how to add its servicer."""

    name: str
    """As in the .proto: ``shoplab.catalog.v1.Catalog``; the allow-lists use it."""
    register: Callable[[grpc.aio.Server], None]


@dataclass(frozen=True)
class GrpcServer:
    server: grpc.aio.Server
    port: int
    """The bound port: the one asked for, or the one the system chose for port 0."""

    async def start(self) -> None:
        await self.server.start()

    async def stop(self, grace: float | None = STOP_GRACE_SECONDS) -> None:
        await self.server.stop(grace)


def build_server(
    services: Sequence[GrpcService],
    callers: Callers,
    credentials: ServiceCredentials,
    *,
    port: int = 0,
    host: str = LOOPBACK,
    interceptors: Sequence[grpc.aio.ServerInterceptor] = (),
    metrics_registry: CollectorRegistry = REGISTRY,
) -> GrpcServer:
    """A server for ``services`` on ``host:port``, bound but not started.

    ``callers`` maps each service's full name to the services that may call it. Call
    from inside the event loop that will run the server (grpc.aio binds to it). Its
    calls are counted on ``metrics_registry``, the one ``/metrics`` exposes by default.
    """
    unguarded = [service.name for service in services if service.name not in callers]
    if unguarded:
        raise ValueError(f"no allow-list of callers for {', '.join(unguarded)}")
    metrics = ServerMetricsInterceptor(served_methods(services), grpc_metrics(metrics_registry))
    server = grpc.aio.server(
        interceptors=[
            metrics,
            ServerTracing(),
            ServiceAuthInterceptor(credentials, callers),
            *interceptors,
        ],
        options=_OPTIONS,
    )
    for service in services:
        service.register(server)
    return GrpcServer(server, server.add_insecure_port(f"{host}:{port}"))


def served_methods(services: Sequence[GrpcService]) -> list[str]:
    """The full name of every method of ``services`` (``/shoplab.catalog.v1.Catalog/GetPrices``).

    Read from the contracts' descriptors, which importing a service's stubs registers;
    a service that is no contract of ``shoplab.contracts`` is refused.
    """
    pool = descriptor_pool.Default()
    methods = []
    for service in services:
        try:
            descriptor = pool.FindServiceByName(service.name)
        except KeyError:
            raise ValueError(f"no .proto contract describes {service.name}") from None
        methods += [f"/{service.name}/{method.name}" for method in descriptor.methods]
    return methods
