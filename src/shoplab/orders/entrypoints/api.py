"""The orders context's public REST endpoints."""

from collections.abc import Callable
from typing import Annotated

from fastapi import APIRouter, Depends, Header, Query, Response, status
from pydantic import BaseModel, ConfigDict, Field, StringConstraints, field_validator

from shoplab.contracts.views import OrderList, OrderSummary
from shoplab.orders.domain.model import MAX_LINES, MAX_QUANTITY, Order
from shoplab.orders.service_layer import services
from shoplab.orders.service_layer.commands import PlaceOrder
from shoplab.orders.service_layer.services import Connect
from shoplab.orders.service_layer.unit_of_work import OrdersUnitOfWork
from shoplab.platform.auth import Authenticator, Principal
from shoplab.platform.telemetry.orders import about_order

MAX_LISTED = 100

Sku = Annotated[str, StringConstraints(min_length=1, max_length=64)]


class LineRequest(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)

    sku: Sku
    quantity: int = Field(ge=1, le=MAX_QUANTITY)


class PlaceOrderRequest(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)

    items: list[LineRequest] = Field(min_length=1, max_length=MAX_LINES)
    payment_method: Annotated[str, StringConstraints(min_length=1, max_length=64)]

    @field_validator("items")
    @classmethod
    def _distinct_skus(cls, items: list[LineRequest]) -> list[LineRequest]:
        if len({item.sku for item in items}) != len(items):
            raise ValueError("each sku may appear on one line only")
        return items


class OrderAccepted(BaseModel):
    order_id: str
    status: str


class LineView(BaseModel):
    sku: str
    quantity: int
    unit_price_cents: int


class OrderView(OrderSummary):
    customer_id: str
    items: list[LineView]

    @classmethod
    def of(cls, order: Order) -> "OrderView":
        return cls(
            order_id=order.order_id,
            status=order.status.value,
            reason=order.reason.value if order.reason else None,
            total_cents=order.total_cents,
            currency=order.currency,
            created_at=order.created_at,
            updated_at=order.updated_at,
            customer_id=order.customer_id,
            items=[
                LineView(
                    sku=line.sku, quantity=line.quantity, unit_price_cents=line.unit_price_cents
                )
                for line in order.lines
            ],
        )


IdempotencyKey = Annotated[
    str | None, Header(alias="Idempotency-Key", min_length=1, max_length=255)
]


def build_router(
    new_uow: Callable[[], OrdersUnitOfWork], connect: Connect, auth: Authenticator
) -> APIRouter:
    router = APIRouter(prefix="/api/orders", tags=["orders"])
    signed_in = Depends(auth.customer)

    @router.post("", status_code=status.HTTP_202_ACCEPTED)
    async def place_order(
        body: PlaceOrderRequest,
        principal: Annotated[Principal, signed_in],
        response: Response,
        key: IdempotencyKey = None,
    ) -> OrderAccepted:
        """Place an order; its final status may come later (poll the Location)."""
        command = PlaceOrder(
            customer_id=principal.customer_id,
            quantities={item.sku: item.quantity for item in body.items},
            payment_method=body.payment_method,
            idempotency_key=key,
        )
        order = await services.place_order(new_uow(), connect, command)
        response.headers["Location"] = f"/api/orders/{order.order_id}"
        return OrderAccepted(order_id=order.order_id, status=order.status.value)

    @router.get("")
    async def list_orders(
        principal: Annotated[Principal, signed_in],
        limit: Annotated[int, Query(ge=1, le=MAX_LISTED)] = MAX_LISTED,
    ) -> OrderList:
        """The caller's orders, newest first (the newest ``limit``, 100 by default)."""
        orders = await services.list_orders(new_uow(), principal, limit)
        return OrderList(
            items=[OrderSummary.model_validate(o, from_attributes=True) for o in orders]
        )

    @router.get("/{order_id}")
    async def get_order(order_id: str, principal: Annotated[Principal, signed_in]) -> OrderView:
        """One order of the caller's (an administrator may read any)."""
        about_order(order_id)
        return OrderView.of(await services.get_order(new_uow(), order_id, principal))

    @router.post("/{order_id}/cancel", status_code=status.HTTP_202_ACCEPTED)
    async def cancel_order(
        order_id: str, principal: Annotated[Principal, signed_in]
    ) -> OrderAccepted:
        """Cancel an approved order: stock is returned and the payment refunded."""
        about_order(order_id)
        order = await services.cancel_order(new_uow(), connect, order_id, principal)
        return OrderAccepted(order_id=order.order_id, status=order.status.value)

    return router
