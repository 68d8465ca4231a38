"""Payments' REST endpoints: what the administrators may read."""

from collections.abc import Callable
from typing import Annotated

from fastapi import APIRouter, Depends, Query

from shoplab.contracts.views import PaymentView
from shoplab.payments.domain.model import Payment
from shoplab.payments.service_layer import services
from shoplab.payments.service_layer.unit_of_work import PaymentsUnitOfWork
from shoplab.platform.auth import Authenticator, Principal
from shoplab.platform.http.openapi import problems


def payment_view(payment: Payment) -> PaymentView:
    return PaymentView(
        order_id=payment.order_id,
        charged_cents=payment.charged_cents,
        refunded_cents=payment.refunded_cents,
        status=payment.status.value,
    )


def build_router(new_uow: Callable[[], PaymentsUnitOfWork], auth: Authenticator) -> APIRouter:
    router = APIRouter(prefix="/api/admin/payments", tags=["administration"])

    @router.get("", responses=problems({404: "No payment was made for this order."}))
    async def payment_for_order(
        order_id: Annotated[str, Query(max_length=64)],
        _admin: Annotated[Principal, Depends(auth.admin)],
    ) -> PaymentView:
        """The payment of an order: charged, refunded, and its status."""
        return payment_view(await services.payment_for(new_uow(), order_id))

    return router
