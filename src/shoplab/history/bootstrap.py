"""The history context's bootstrap: the view, its projector and its endpoints.

It runs as a service only (the monolith answers the order list from orders itself), and as
one instance: the projector that follows the logs is the view's only writer, so
``--scale history=N`` is refused for N > 1.
"""

import asyncio
from collections.abc import Callable, Coroutine
from typing import Any

import structlog
from fastapi import APIRouter

from shoplab.history.adapters.tables import MIGRATIONS
from shoplab.history.entrypoints.api import build_router, lag_view
from shoplab.history.entrypoints.metrics import LagGauges
from shoplab.history.service_layer.projector import Lag, Projector
from shoplab.history.service_layer.unit_of_work import SqlHistoryUnitOfWork
from shoplab.platform.auth import Authenticator
from shoplab.platform.host import ServiceHost, ServiceParts
from shoplab.platform.messaging.brokers import open_event_log
from shoplab.platform.messaging.event_log import EventLog
from shoplab.platform.persistence.database import Database
from shoplab.platform.persistence.migrate import upgrade

log = structlog.get_logger(__name__)

LAG_PROBE_SECONDS = 1.0


class HistoryContext:
    def __init__(self, database: Database, event_log: EventLog) -> None:
        self.database = database
        self.event_log = event_log
        self.projector = Projector(event_log, self.uow)
        self._gauges: LagGauges | None = None
        self._lag: list[Lag] = []

    def uow(self) -> SqlHistoryUnitOfWork:
        return SqlHistoryUnitOfWork(self.database)

    async def start(self) -> None:
        """Migrate the view and connect to the log (before the projector and any request)."""
        await upgrade(self.database, MIGRATIONS)
        await self.event_log.start()

    def router(self, auth: Authenticator) -> APIRouter:
        return build_router(self.uow, self.projector, auth)

    def background(self) -> list[Callable[[], Coroutine[Any, Any, None]]]:
        """The projector, and the probe that keeps the lag gauges current."""
        return [self.project, self.probe_lag]

    async def project(self) -> None:
        try:
            await self.projector.run()
        finally:
            await self.event_log.stop()

    async def probe_lag(self) -> None:
        self._gauges = self._gauges or LagGauges()
        while True:
            await asyncio.sleep(LAG_PROBE_SECONDS)
            try:
                self._lag = await self.projector.lag()
            except Exception:
                log.warning("history lag probe failed", exc_info=True)
                continue
            self._gauges.show(self._lag)

    def health(self) -> dict[str, Any]:
        """What the readiness answer tells: the lag at the last probe."""
        return {"history": lag_view(self._lag).model_dump()}


def service(host: ServiceHost) -> ServiceParts:
    """The order history service: each customer's order list, built from events (CQRS)."""
    event_log = open_event_log(host.settings, name=f"history-{host.settings.instance}")
    history = HistoryContext(host.database, event_log)
    return ServiceParts(
        routers=[history.router(host.auth)],
        start=history.start,
        background=history.background(),
        state=history.health,
    )
