"""The service chassis: what every process of the microservices mode runs around its context.

A context's bootstrap describes its service as ``ServiceParts`` (routers,
message subscriptions, outboxes, start-up work, background loops); the host
gives it the rest, the same way for all six services:

- its own database (``SHOPLAB_<CONTEXT>_DATABASE_URL``, else ``<data-dir>/<context>.db``);
- internal credentials, and a guard that closes its HTTP port to callers without them;
- a gRPC server for its queries, whose callers are checked against an allow-list;
- an entry in the service registry (kept alive by heartbeats, on a connection of its own:
  see ``discovery.registry``), and clients of the other services that balance over their
  live instances under a resilience policy;
- a broker connection (``bus.open_bus``: NATS JetStream or RabbitMQ) with durable
  consumers, and an outbox relay publishing to it;
- fault injection on command (``shoplab fault``), through a signed control subject;
- health probes: ready once the database, the broker and the relay all are.

Start-up order matters for correctness: migrations and seeding run before any
consumer starts, so no message is handled against a missing table; the instance
registers last, once it can serve, and deregisters first at shutdown.
"""

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass, field, replace
from typing import Any

import structlog
from fastapi import APIRouter, FastAPI
from sqlalchemy import Table
from starlette.middleware import Middleware

from shoplab.contracts.envelope import Envelope
from shoplab.platform.auth import Authenticator
from shoplab.platform.discovery import (
    Balancer,
    Discovery,
    discovery_from_settings,
    local_instance,
)
from shoplab.platform.faults import (
    FaultInjector,
    FaultListener,
    FaultMiddleware,
    control_subject,
)
from shoplab.platform.grpc.auth import Callers
from shoplab.platform.grpc.client import GrpcClient
from shoplab.platform.grpc.server import GrpcServer, GrpcService, build_server
from shoplab.platform.grpc.serving import ServingInterceptor
from shoplab.platform.http.app import ReadinessCheck, create_app
from shoplab.platform.http.edge_settings import EdgeSettings
from shoplab.platform.http.internal_guard import ServiceGuard
from shoplab.platform.internal_auth import ServiceCredentials, load_service_secret
from shoplab.platform.messaging.brokers import open_bus
from shoplab.platform.messaging.bus import Bus
from shoplab.platform.messaging.consumers import Batch, Subscription
from shoplab.platform.messaging.relay import OutboxRelay
from shoplab.platform.messaging.streams import Topology
from shoplab.platform.persistence.database import Database, ensure_database
from shoplab.platform.resilience import Resilience, ResilienceConfig
from shoplab.platform.settings import PlatformSettings, database_url_for
from shoplab.platform.telemetry.metrics import messaging_metrics

log = structlog.get_logger(__name__)

Loop = Callable[[], Coroutine[Any, Any, None]]


async def _nothing() -> None:
    return None


@dataclass
class ServiceParts:
    routers: list[APIRouter]
    grpc_services: list[GrpcService] = field(default_factory=list)
    grpc_callers: Callers = field(default_factory=dict)
    """Which services may call each gRPC service: ``{full service name: {caller, ...}}``."""
    subscriptions: list[Subscription] = field(default_factory=list)
    outboxes: list[Table] = field(default_factory=list)
    start: Loop = _nothing
    """Migrations and seeding; runs before any message is consumed."""
    background: list[Loop] = field(default_factory=list)
    """Coroutines that run for the life of the process (cancelled at shutdown)."""
    state: Callable[[], Mapping[str, Any]] | None = None
    """What the readiness answer also tells about this service (a read model's lag)."""


class ServiceHost:
    def __init__(
        self, name: str, settings: PlatformSettings, *, http_port: int, grpc_port: int = 0
    ) -> None:
        self.name = name
        self.settings = settings
        self.http_port = http_port
        self.grpc_port = grpc_port
        self.database = Database(
            database_url_for(name, settings),
            fsync=settings.fsync,
            pool_size=settings.database_pool_size,
            trace_statements=settings.trace_sql,
        )
        self.credentials = ServiceCredentials(load_service_secret(settings.data_dir), issuer=name)
        self.auth = Authenticator(self.credentials)
        self.faults = FaultInjector(self.credentials)
        self.resilience = Resilience(name)
        self._balancer: Balancer | None = None
        self._discovery: Discovery | None = None
        self._grpc: GrpcServer | None = None
        self._registration = contextlib.AsyncExitStack()
        self._grpc_clients: list[GrpcClient] = []
        self._bus: Bus | None = None
        self._relay_task: asyncio.Task[None] | None = None
        self._tasks: list[asyncio.Task[None]] = []

    def grpc_client(self, service: str, config: ResilienceConfig | None = None) -> GrpcClient:
        """A client of another service's gRPC queries: balanced, resilient, closed at shutdown."""
        client = GrpcClient(
            service, self.balancer, self.credentials, self.resilience.policy(service, config)
        )
        self._grpc_clients.append(client)
        return client

    def balancer(self) -> Balancer:
        if self._balancer is None:
            raise RuntimeError("the service has not started: no instances are known yet")
        return self._balancer

    def app(self, parts: ServiceParts) -> FastAPI:
        @asynccontextmanager
        async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
            await self._start(parts)
            try:
                yield
            finally:
                await self._stop()

        readiness: dict[str, ReadinessCheck] = {
            "database": self.database.ping,
            "broker": self._broker_connected,
        }
        if parts.outboxes:
            readiness["outbox_relay"] = self._relay_running
        app = create_app(
            title=f"shoplab {self.name}",
            routers=parts.routers,
            readiness=readiness,
            # Behind the gateway, which applies the configured edge: the body it forwards
            # may be as large as it allows, the rest is the defaults.
            edge=EdgeSettings(max_body_bytes=self.settings.max_body_bytes),
            lifespan=lifespan,
            state=lambda: {
                "faults": self.faults.faults.describe(),
                **(parts.state() if parts.state else {}),
            },
            # Inside the request metrics, so refusals and injected faults are counted;
            # the guard last, outermost: a caller without credentials gets 401 first.
            middleware=[
                Middleware(FaultMiddleware, injector=self.faults),
                Middleware(ServiceGuard, credentials=self.credentials),
            ],
        )
        return app

    async def _start(self, parts: ServiceParts) -> None:
        await ensure_database(self.database.url)
        await parts.start()
        if not self.settings.broker_url:
            raise RuntimeError("SHOPLAB_BROKER_URL is not set")
        topology = Topology(self.settings.broker_namespace)
        process = f"{self.name}-{self.settings.instance}"
        self._bus = open_bus(self.settings.broker_url, service=process, settings=self.settings)
        self._bus.subscribe([self._slowed(s) for s in parts.subscriptions])
        for subscription in parts.subscriptions:
            messaging_metrics().consumer_started(subscription.consumer, subscription.subject)
        await self._bus.start()
        listener = FaultListener(self.faults, process)
        await self._bus.answer(topology.wire(control_subject(self.name)), listener.handle)
        self._discovery = discovery_from_settings(self.settings, name=process)
        await self._discovery.start()
        self._balancer = Balancer(
            self._discovery, ejection_seconds=self.settings.discovery_ttl_seconds
        )
        ports = {"http": self.http_port}
        if parts.grpc_services:
            self._grpc = build_server(
                parts.grpc_services,
                parts.grpc_callers,
                self.credentials,
                port=self.grpc_port,
                interceptors=[ServingInterceptor(self.faults)],
            )
            await self._grpc.start()
            ports["grpc"] = self._grpc.port
        if parts.outboxes:
            relay = OutboxRelay(
                self.database,
                parts.outboxes,
                self._bus,
                max_attempts=self.settings.outbox_max_attempts,
                poll_seconds=self.settings.outbox_recovery_seconds,
                system=self._bus.system,
            )
            self._relay_task = asyncio.create_task(relay.run(), name="outbox-relay")
        self._tasks = [asyncio.create_task(loop()) for loop in parts.background]
        instance = local_instance(self.name, self.settings, ports)
        await self._registration.enter_async_context(self._discovery.registered(instance))
        log.info("service started", service=self.name, ports=ports)

    async def _stop(self) -> None:
        await self._registration.aclose()  # callers stop choosing this instance first
        if self._grpc is not None:
            await self._grpc.stop()
        tasks = [*self._tasks, *([self._relay_task] if self._relay_task else [])]
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        for grpc_client in self._grpc_clients:
            await grpc_client.close()
        if self._discovery is not None:
            await self._discovery.stop()
        if self._bus is not None:
            await self._bus.stop()
        await self.database.dispose()

    def _slowed(self, subscription: Subscription) -> Subscription:
        """Message handlers get the injected latency too (not the errors: an injected
        error would spend the message's deliveries and send it to the dead letters).
        A batch waits once, before its transaction opens, so no delay holds it open."""
        handle, batch = subscription.handle, subscription.batch

        async def slowed(envelope: Envelope) -> None:
            await self.faults.delay()
            await handle(envelope)

        @asynccontextmanager
        async def slowed_batch() -> AsyncIterator[Batch]:
            assert batch is not None
            await self.faults.delay()
            async with batch() as opened:
                yield opened

        return replace(subscription, handle=slowed, batch=slowed_batch if batch else None)

    async def _broker_connected(self) -> bool:
        return self._bus is not None and await self._bus.connected()

    async def _relay_running(self) -> bool:
        return self._relay_task is not None and not self._relay_task.done()


def every(seconds: float, work: Callable[[], Awaitable[object]], name: str) -> Loop:
    """A background loop running ``work`` every ``seconds``; a failed pass is logged."""

    async def loop() -> None:
        while True:
            await asyncio.sleep(seconds)
            try:
                await work()
            except Exception:
                log.exception("background pass failed", loop=name)

    return loop
