"""Endpoints that answer from several contexts: the order details and the saga view.

The details compose orders, payments and notifications. A part that fails is
named in ``degraded`` and left empty instead of failing the whole answer; the
gateway of the microservices mode composes the same answer from remote calls.
"""

from collections.abc import Awaitable
from typing import Annotated, TypeVar

import structlog
from fastapi import APIRouter, Depends

from shoplab.contracts.views import OrderDetails
from shoplab.notifications.bootstrap import NotificationsContext
from shoplab.notifications.entrypoints.api import notification_view
from shoplab.notifications.service_layer.queries import notifications_for
from shoplab.orders.bootstrap import OrdersContext
from shoplab.orders.entrypoints.api import order_view
from shoplab.orders.entrypoints.saga_api import SagaView
from shoplab.orders.service_layer import services as orders
from shoplab.payments.bootstrap import PaymentsContext
from shoplab.payments.domain.model import NoPayment, Payment
from shoplab.payments.entrypoints.api import payment_view
from shoplab.payments.service_layer.services import payment_for
from shoplab.platform.auth import Authenticator, Principal
from shoplab.platform.errors import NotFound
from shoplab.platform.http.openapi import problems

log = structlog.get_logger(__name__)
T = TypeVar("T")


class NoSagaInMonolith(NotFound):
    def __init__(self) -> None:
        super().__init__(
            "The modular monolith places an order in one transaction: there is no saga. "
            "Run the microservices mode to see one."
        )


def build_router(
    order_context: OrdersContext,
    payment_context: PaymentsContext,
    notification_context: NotificationsContext,
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
        order = await orders.get_order(order_context.uow(), order_id, principal)
        degraded: list[str] = []
        payment = await _part("payment", degraded, _payment(payment_context, order_id), None)
        sent = await _part(
            "notifications", degraded, notifications_for(notification_context.uow(), order_id), []
        )
        return OrderDetails(
            order=order_view(order),
            payment=payment_view(payment) if payment else None,
            notifications=[notification_view(item) for item in sent],
            degraded=degraded,
        )

    # Declared as the orders service declares it (``saga_api``), so the public document
    # is the same in both modes; here every answer is the 404 that says why.
    @router.get("/api/admin/sagas/{order_id}", tags=["administration"], response_model=SagaView)
    async def saga(order_id: str, _admin: Annotated[Principal, Depends(auth.admin)]) -> None:
        """Where the order's saga stands, and every step it took."""
        raise NoSagaInMonolith

    return router


async def _payment(context: PaymentsContext, order_id: str) -> Payment | None:
    try:
        return await payment_for(context.uow(), order_id)
    except NoPayment:
        return None


async def _part(name: str, degraded: list[str], fetch: Awaitable[T], fallback: T) -> T:
    try:
        return await fetch
    except Exception:
        log.warning("details part unavailable", part=name, exc_info=True)
        degraded.append(name)
        return fallback
