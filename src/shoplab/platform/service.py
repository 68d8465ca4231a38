"""The service chassis: what every process of the microservices mode runs around its context.

A context's composition root describes its service as ``ServiceParts`` (routers,
message subscriptions, outboxes, start-up work, background loops); the host
gives it the rest, the same way for all six services:

- its own database (``SHOPLAB_<CONTEXT>_DATABASE_URL``, else ``<data-dir>/<context>.db``);
- internal credentials, and a guard that closes its HTTP port to callers without them;
- a JetStream connection with durable consumers, and an outbox relay publishing to it;
- health probes: ready once the database, the broker and the relay all are.

Start-up order matters for correctness: migrations and seeding run before any
consumer starts, so no message is handled against a missing table.
"""

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

import structlog
from fastapi import APIRouter, FastAPI
from sqlalchemy import Table

from shoplab.platform.auth import Authenticator
from shoplab.platform.database import Database, ensure_database
from shoplab.platform.http.app import ReadinessCheck, create_app
from shoplab.platform.http.service_guard import ServiceGuard
from shoplab.platform.internal_client import InternalClient
from shoplab.platform.messaging import Subscription
from shoplab.platform.nats_bus import NatsBus
from shoplab.platform.relay import OutboxRelay
from shoplab.platform.service_auth import ServiceCredentials, load_service_secret
from shoplab.platform.settings import PlatformSettings, database_url_for
from shoplab.platform.streams import Topology

log = structlog.get_logger(__name__)

Loop = Callable[[], Coroutine[Any, Any, None]]


async def _nothing() -> None:
    return None


@dataclass
class ServiceParts:
    routers: list[APIRouter]
    subscriptions: list[Subscription] = field(default_factory=list)
    outboxes: list[Table] = field(default_factory=list)
    start: Loop = _nothing
    """Migrations and seeding; runs before any message is consumed."""
    background: list[Loop] = field(default_factory=list)
    """Coroutines that run for the life of the process (cancelled at shutdown)."""


class ServiceHost:
    def __init__(self, name: str, settings: PlatformSettings) -> None:
        self.name = name
        self.settings = settings
        self.database = Database(database_url_for(name, settings), fsync=settings.fsync)
        self.credentials = ServiceCredentials(load_service_secret(settings.data_dir), issuer=name)
        self.auth = Authenticator(self.credentials)
        self._clients: list[InternalClient] = []
        self._bus: NatsBus | None = None
        self._relay_task: asyncio.Task[None] | None = None
        self._tasks: list[asyncio.Task[None]] = []

    def client(self, service: str) -> InternalClient:
        """A client for another service's internal endpoints, closed at shutdown."""
        try:
            base_url = self.settings.service_urls[service]
        except KeyError:
            raise RuntimeError(f"SHOPLAB_SERVICE_URLS names no {service!r} service") from None
        client = InternalClient(service, base_url, self.credentials)
        self._clients.append(client)
        return client

    def app(self, parts: ServiceParts) -> FastAPI:
        @asynccontextmanager
        async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
            await self._start(parts)
            try:
                yield
            finally:
                await self._stop()

        readiness: dict[str, ReadinessCheck] = {"database": self.database.ping}
        if parts.subscriptions or parts.outboxes:
            readiness["broker"] = self._broker_connected
        if parts.outboxes:
            readiness["outbox_relay"] = self._relay_running
        app = create_app(
            title=f"shoplab {self.name}",
            routers=parts.routers,
            readiness=readiness,
            max_body_bytes=self.settings.max_body_bytes,
            lifespan=lifespan,
        )
        app.add_middleware(ServiceGuard, credentials=self.credentials)
        return app

    async def _start(self, parts: ServiceParts) -> None:
        await ensure_database(self.database.url)
        await parts.start()
        if parts.subscriptions or parts.outboxes:
            if not self.settings.broker_url:
                raise RuntimeError("SHOPLAB_BROKER_URL is not set")
            self._bus = NatsBus(
                self.settings.broker_url,
                service=f"{self.name}-{self.settings.instance}",
                max_deliveries=self.settings.max_deliveries,
                topology=Topology(self.settings.broker_namespace),
            )
            self._bus.subscribe(parts.subscriptions)
            await self._bus.start()
        if parts.outboxes and self._bus is not None:
            relay = OutboxRelay(
                self.database,
                parts.outboxes,
                self._bus,
                max_attempts=self.settings.outbox_max_attempts,
            )
            self._relay_task = asyncio.create_task(relay.run(), name="outbox-relay")
        self._tasks = [asyncio.create_task(loop()) for loop in parts.background]
        log.info("service started", service=self.name)

    async def _stop(self) -> None:
        tasks = [*self._tasks, *([self._relay_task] if self._relay_task else [])]
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        if self._bus is not None:
            await self._bus.stop()
        for client in self._clients:
            await client.aclose()
        await self.database.dispose()

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
