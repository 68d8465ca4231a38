"""The order details, by API composition: one answer from the views of three contexts.

The details compose orders, payments and notifications, each read through its owner's
bootstrap. A part that fails is named in ``degraded`` and left empty instead of failing the
whole answer; the gateway of the microservices mode composes the same answer from remote
calls (``gateway/order_details.py``).
"""

from collections.abc import Awaitable
from typing import Annotated, TypeVar

import structlog
from fastapi import APIRouter, Depends

from shoplab.contracts.views import OrderDetails
from shoplab.notifications.bootstrap import NotificationsContext
from shoplab.orders.bootstrap import OrdersContext
from shoplab.payments.bootstrap import PaymentsContext
from shoplab.platform.auth import Authenticator, Principal
from shoplab.platform.http.openapi import problems

log = structlog.get_logger(__name__)
T = TypeVar("T")


def build_router(
    orders: OrdersContext,
    payments: PaymentsContext,
    notifications: NotificationsContext,
    auth: Authenticator,
) -> APIRouter:
    router = APIRouter()

    @router.get(
        "/api/orders/{order_id}/details",
        tags=["orders"],
        responses=problems({404: "No order of the caller's has this id."}),
    )
    async def order_details(
        order_id: str, principal: Annotated[Principal, Depends(auth.customer)]
    ) -> OrderDetails:
        """The order with its payment and notifications, composed from their owners."""
        order = await orders.order_view(order_id, principal)
        degraded: list[str] = []
        payment = await _part("payment", degraded, payments.payment_view(order_id), None)
        sent = await _part(
            "notifications", degraded, notifications.notification_views(order_id), []
        )
        return OrderDetails(order=order, payment=payment, notifications=sent, degraded=degraded)

    return router


async def _part(name: str, degraded: list[str], fetch: Awaitable[T], fallback: T) -> T:
    try:
        return await fetch
    except Exception:
        log.warning("details part unavailable", part=name, exc_info=True)
        degraded.append(name)
        return fallback
