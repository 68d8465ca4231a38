"""The order details, by API composition: orders (HTTP), payments and notifications (gRPC).

The answer is the one ``shoplab.monolith.order_details`` gives from in-process
calls. The order itself is essential: its owner's answer (including a 401 or
404 problem) is passed through as it is. Payment and notifications are
optional parts, fetched concurrently over gRPC under the gateway's resilience
policy with a short deadline each (``PART_TIMEOUT_SECONDS``); a part that fails, is late
or is refused by an open breaker is left empty and named in ``degraded`` instead
of failing the whole answer. So a slow payments service costs the details page
half a second, not the payments' latency.
"""

import asyncio
from collections.abc import Awaitable, Mapping
from datetime import UTC, datetime
from typing import Any, TypeVar
from urllib.parse import quote

import structlog
from fastapi import Response
from fastapi.responses import JSONResponse
from pydantic import TypeAdapter

from shoplab.contracts.grpc.notifications.v1.notifications_pb2 import (
    ListForOrderRequest,
    NotificationKind,
)
from shoplab.contracts.grpc.notifications.v1.notifications_pb2_grpc import NotificationsStub
from shoplab.contracts.grpc.payments.v1.payments_pb2 import GetPaymentRequest, PaymentStatus
from shoplab.contracts.grpc.payments.v1.payments_pb2_grpc import PaymentsStub
from shoplab.gateway.proxy import passed_back
from shoplab.gateway.routes import ORDERS
from shoplab.gateway.upstreams import Upstreams
from shoplab.platform.grpc.client import GrpcClient

_TIME = TypeAdapter(datetime)
"""Timestamps written as the services' REST answers write them."""

log = structlog.get_logger(__name__)
T = TypeVar("T")

PART_TIMEOUT_SECONDS = 0.5
"""The deadline of each part's call, set in its resilience policy: the details page
must answer within a second whatever the parts do."""
GUARD_FACTOR = 1.5
"""The composer's own guard around a part: later than the policy's deadline, so a slow
part fails *inside* the policy and counts against its breaker."""
PAYMENT_PART = "payment"
NOTIFICATIONS_PART = "notifications"


class OrderDetailsComposer:
    def __init__(
        self,
        upstreams: Upstreams,
        payments: GrpcClient,
        notifications: GrpcClient,
        *,
        part_timeout: float = PART_TIMEOUT_SECONDS,
    ) -> None:
        self._upstreams = upstreams
        self._payments = payments
        self._notifications_client = notifications
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
        answer = await self._payments.call(
            lambda channel: PaymentsStub(channel).GetPayment,
            GetPaymentRequest(order_id=order_id),
        )
        if not answer.found:
            return None
        return {
            "order_id": order_id,
            "charged_cents": answer.charged_cents,
            "refunded_cents": answer.refunded_cents,
            "status": PaymentStatus.Name(answer.status).removeprefix("PAYMENT_STATUS_"),
        }

    async def _notifications(self, order_id: str) -> list[dict[str, Any]]:
        answer = await self._notifications_client.call(
            lambda channel: NotificationsStub(channel).ListForOrder,
            ListForOrderRequest(order_id=order_id),
        )
        return [
            {
                "kind": NotificationKind.Name(item.kind).removeprefix("NOTIFICATION_KIND_"),
                "order_id": item.order_id,
                "recipient": item.recipient,
                "sent_at": _TIME.dump_python(item.sent_at.ToDatetime(tzinfo=UTC), mode="json"),
            }
            for item in answer.items
        ]

    async def close(self) -> None:
        await self._payments.close()
        await self._notifications_client.close()

    async def _part(self, name: str, failed: set[str], fetch: Awaitable[T], fallback: T) -> T:
        try:
            async with asyncio.timeout(self._part_timeout * GUARD_FACTOR):
                return await fetch
        except Exception as error:
            log.warning("details part unavailable", part=name, cause=type(error).__name__)
            failed.add(name)
            return fallback
