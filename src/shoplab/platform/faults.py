"""Fault injection: slow a service down, or make it fail, on purpose and at once.

``shoplab fault payments --latency-ms 5000`` publishes a ``FaultOrder`` on the
control subject ``shoplab.control.faults.payments``; every instance of payments
applies it to everything it serves (HTTP routes, gRPC methods, message
handlers) until ``--clear``. The order carries an internal token signed with
the run's service secret, so only someone holding that secret (the operator on
this machine, through the CLI) can break a service; an unsigned or forged order
is ignored and logged. Health probes and metrics are never slowed: the supervisor
and the operator must keep seeing the truth.
"""

import asyncio
import json
import random
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import structlog
from pydantic import BaseModel, Field
from starlette.types import ASGIApp, Receive, Scope, Send

from shoplab.platform.auth import SERVICE, InvalidToken
from shoplab.platform.errors import Unavailable
from shoplab.platform.http.problems import problem_response
from shoplab.platform.internal_auth import ServiceCredentials

log = structlog.get_logger(__name__)

CONTROL_PREFIX = "shoplab.control.faults"
OPERATOR = "operator"
"""The ``sub`` of the tokens the CLI mints for fault orders."""


class FaultOrder(BaseModel):
    """What the operator asks of every instance of one service."""

    token: str
    latency_ms: int = Field(default=0, ge=0, le=600_000)
    error_rate: float = Field(default=0.0, ge=0.0, le=1.0)

    @property
    def clears(self) -> bool:
        return self.latency_ms == 0 and self.error_rate == 0.0


class InjectedFault(Unavailable):
    def __init__(self) -> None:
        super().__init__("An injected fault refused this request.")


@dataclass
class Faults:
    """The faults in force in this process; all zero means none."""

    latency_ms: int = 0
    error_rate: float = 0.0

    @property
    def active(self) -> bool:
        return self.latency_ms > 0 or self.error_rate > 0

    def describe(self) -> dict[str, float]:
        return {"latency_ms": self.latency_ms, "error_rate": self.error_rate}


class FaultInjector:
    """Holds the faults in force and applies them to one unit of work at a time.

    ``random`` and ``sleep`` are injectable so tests are deterministic.
    """

    def __init__(
        self,
        credentials: ServiceCredentials,
        *,
        random_fraction: Callable[[], float] = random.random,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self._credentials = credentials
        self._random = random_fraction
        self._sleep = sleep
        self.faults = Faults()

    def obey(self, order: FaultOrder) -> bool:
        """Apply a signed order; False (and nothing changes) when its token is not valid."""
        try:
            principal = self._credentials.verify(order.token)
        except InvalidToken:
            return False
        if principal.role != SERVICE or principal.customer_id != OPERATOR:
            return False
        self.faults = Faults(order.latency_ms, order.error_rate)
        return True

    async def delay(self) -> None:
        """Wait the injected latency, if any."""
        if self.faults.latency_ms:
            await self._sleep(self.faults.latency_ms / 1000)

    async def apply(self) -> None:
        """Wait the injected latency, then fail at the injected rate (``InjectedFault``)."""
        await self.delay()
        if self.faults.error_rate and self._random() < self.faults.error_rate:
            raise InjectedFault


def control_subject(service: str) -> str:
    return f"{CONTROL_PREFIX}.{service}"


class FaultMiddleware:
    """Applies the injected faults to every HTTP request but the health probes and metrics."""

    def __init__(self, app: ASGIApp, injector: FaultInjector) -> None:
        self._app = app
        self._injector = injector

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and not scope["path"].startswith(("/health/", "/metrics")):
            try:
                await self._injector.apply()
            except InjectedFault as fault:
                await problem_response(fault)(scope, receive, send)
                return
        await self._app(scope, receive, send)


class FaultListener:
    """Receives fault orders for one service on the broker and answers each with its state.

    Every instance subscribes without a queue group, so one order reaches them all;
    each replies (when the order asks for a reply) with its instance name and
    whether it obeyed, so the CLI can tell how many instances applied it.
    """

    def __init__(self, injector: FaultInjector, instance: str) -> None:
        self._injector = injector
        self._instance = instance

    async def handle(self, data: bytes) -> bytes:
        try:
            order = FaultOrder.model_validate_json(data)
        except ValueError:
            log.warning("unreadable fault order ignored")
            return b'{"obeyed": false}'
        obeyed = self._injector.obey(order)
        if not obeyed:
            log.warning("fault order with an invalid token ignored")
        else:
            log.warning("fault injected", **self._injector.faults.describe())
        answer = {"instance": self._instance, "obeyed": obeyed, **self._injector.faults.describe()}
        return json.dumps(answer).encode()
