"""The order details, composed from orders, payments and notifications over HTTP.

The answer is the one ``shoplab.monolith.composition`` gives from in-process
calls. The order itself is essential: its owner's answer (including a 401 or
404 problem) is passed through as it is. Payment and notifications are
optional parts, fetched concurrently with the gateway's own service token and a
short deadline each; a part that fails or is late is left empty and named in
``degraded`` instead of failing the whole answer.
"""

import asyncio
from collections.abc import Awaitable, Mapping
from typing import Any, TypeVar
from urllib.parse import quote

import httpx
import structlog
from fastapi import Response
from fastapi.responses import JSONResponse

from shoplab.gateway.proxy import passed_back
from shoplab.gateway.routes import NOTIFICATIONS, ORDERS, PAYMENTS
from shoplab.gateway.upstreams import Upstreams
from shoplab.platform.service_auth import ServiceCredentials

log = structlog.get_logger(__name__)
T = TypeVar("T")

PART_TIMEOUT_SECONDS = 2.0
PAYMENT_PART = "payment"
NOTIFICATIONS_PART = "notifications"


class PartFailed(Exception):
    """A part's owner answered, but not with what the details need."""


class OrderDetailsComposer:
    def __init__(
        self,
        upstreams: Upstreams,
        credentials: ServiceCredentials,
        *,
        part_timeout: float = PART_TIMEOUT_SECONDS,
    ) -> None:
        self._upstreams = upstreams
        self._credentials = credentials
        self._part_timeout = part_timeout

    async def compose(self, order_id: str, caller: Mapping[str, str]) -> Response:
        """``caller`` holds the internal ``Authorization`` header naming the customer."""
        order = await self._upstreams.request(
            ORDERS, "GET", f"/api/orders/{quote(order_id, safe='')}", headers=caller
        )
        if order.status_code != 200:
            return passed_back(order)
        failed: set[str] = set()
        payment, notifications = await asyncio.gather(
            self._part(PAYMENT_PART, failed, self._payment(order_id), None),
            self._part(NOTIFICATIONS_PART, failed, self._notifications(order_id), []),
        )
        return JSONResponse(
            {
                "order": order.json(),
                "payment": payment,
                "notifications": notifications,
                "degraded": [part for part in (PAYMENT_PART, NOTIFICATIONS_PART) if part in failed],
            }
        )

    async def _payment(self, order_id: str) -> dict[str, Any] | None:
        answer = await self._admin_read(PAYMENTS, "/api/admin/payments", order_id)
        if answer.status_code == 404:
            return None
        if answer.status_code != 200:
            raise PartFailed(f"payments answered {answer.status_code}")
        payment: dict[str, Any] = answer.json()
        return payment

    async def _notifications(self, order_id: str) -> list[dict[str, Any]]:
        answer = await self._admin_read(NOTIFICATIONS, "/api/admin/notifications", order_id)
        if answer.status_code != 200:
            raise PartFailed(f"notifications answered {answer.status_code}")
        items: list[dict[str, Any]] = answer.json()["items"]
        return items

    async def _admin_read(self, service: str, path: str, order_id: str) -> httpx.Response:
        """Read as the gateway itself: services let role ``service`` read admin routes."""
        return await self._upstreams.request(
            service,
            "GET",
            path,
            params={"order_id": order_id},
            headers=self._credentials.headers(),
        )

    async def _part(self, name: str, failed: set[str], fetch: Awaitable[T], fallback: T) -> T:
        try:
            async with asyncio.timeout(self._part_timeout):
                return await fetch
        except Exception as error:
            log.warning("details part unavailable", part=name, cause=type(error).__name__)
            failed.add(name)
            return fallback
