"""The monolith's wiring: one database, every context's bootstrap, one HTTP app."""

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, suppress

import structlog
from fastapi import FastAPI
from starlette.middleware import Middleware

from shoplab import seed
from shoplab.catalog.bootstrap import CatalogContext
from shoplab.identity.bootstrap import ADMIN_PASSWORD_FILE, IdentityContext
from shoplab.inventory.bootstrap import InventoryContext
from shoplab.monolith import order_details
from shoplab.monolith.collaborators import partners
from shoplab.notifications.bootstrap import NotificationsContext
from shoplab.orders.bootstrap import OrdersContext
from shoplab.payments.bootstrap import PaymentsContext
from shoplab.platform.auth import (
    Authenticator,
    InvalidToken,
    Principal,
    TokenVerifier,
    bearer_token,
)
from shoplab.platform.http.app import create_app
from shoplab.platform.http.edge_settings import EdgeSettings
from shoplab.platform.http.rate_limit import EdgePolicies, RateLimits
from shoplab.platform.messaging.consumers import InProcessPublisher
from shoplab.platform.messaging.relay import OutboxRelay
from shoplab.platform.persistence.database import Database, ensure_database
from shoplab.platform.rate_limits import RateLimiter
from shoplab.platform.settings import PlatformSettings, sqlite_file

log = structlog.get_logger(__name__)


class Monolith:
    """Every context wired in-process over one shared database."""

    def __init__(self, settings: PlatformSettings) -> None:
        self.settings = settings
        url = settings.database_url or sqlite_file(settings, "shoplab.db")
        self.database = Database(
            url,
            fsync=settings.fsync,
            pool_size=settings.database_pool_size,
            trace_statements=settings.trace_sql,
        )
        self.catalog = CatalogContext(self.database)
        self.inventory = InventoryContext(self.database)
        self.payments = PaymentsContext(self.database)
        self.notifications = NotificationsContext(self.database)
        self.limiter = RateLimiter.from_url(settings.redis_url, settings.redis_prefix)
        self.identity = IdentityContext(self.database, settings, limiter=self.limiter)
        self.orders = OrdersContext.settled_in_transaction(
            self.database, partners(self.catalog, self.inventory, self.payments)
        )
        self.verifier = TokenVerifier(
            self.identity.keys.public_keys,
            issuer=settings.jwt_issuer,
            audience=settings.jwt_audience,
        )
        self.auth = Authenticator(self.verifier)
        self.relay = OutboxRelay(
            self.database,
            [self.identity.outbox, self.orders.outbox, self.notifications.outbox],
            InProcessPublisher(self.notifications.subscriptions()),
            max_attempts=settings.outbox_max_attempts,
            poll_seconds=settings.outbox_recovery_seconds,
        )
        self._relay_task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        """Migrate every context, load the demo data, create the admin, start the relay."""
        await ensure_database(self.database.url)
        for context in (self.catalog, self.inventory, self.payments, self.notifications):
            await context.migrate()
        await self.orders.migrate()
        if await self.identity.start() is not None:
            log.info("administrator created", password_file=ADMIN_PASSWORD_FILE)
        await seed.seed_catalog(self.catalog)
        await seed.seed_inventory(self.inventory)
        self._relay_task = asyncio.create_task(self.relay.run(), name="outbox-relay")

    async def stop(self) -> None:
        if self._relay_task is not None:
            self._relay_task.cancel()
            with suppress(asyncio.CancelledError):
                await self._relay_task
        await self.database.dispose()

    async def relay_running(self) -> bool:
        return self._relay_task is not None and not self._relay_task.done()

    async def caller(self, authorization: str | None) -> Principal | None:
        """Whom the rate limits count a request against: the verified caller, if any."""
        token = bearer_token(authorization)
        if token is None:
            return None
        try:
            return self.verifier.verify(token)
        except InvalidToken:
            return None

    def app(self) -> FastAPI:
        @asynccontextmanager
        async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
            await self.start()
            try:
                yield
            finally:
                await self.stop()

        return create_app(
            title="shoplab",
            routers=[
                self.identity.router(),
                self.catalog.router(stock=self.inventory),
                order_details.build_router(
                    self.orders, self.payments, self.notifications, self.auth
                ),
                self.orders.no_saga_router(self.auth),
                self.orders.router(self.auth),
                self.inventory.router(self.auth),
                self.payments.router(self.auth),
                self.notifications.router(self.auth),
            ],
            readiness={"database": self.database.ping, "outbox_relay": self.relay_running},
            edge=EdgeSettings.of(self.settings),
            lifespan=lifespan,
            middleware=[
                Middleware(
                    RateLimits,
                    limiter=self.limiter,
                    policies=EdgePolicies.from_settings(self.settings),
                    identify=self.caller,
                )
            ],
        )
