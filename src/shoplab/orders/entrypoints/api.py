"""The orders context's public REST endpoints.

Placing an order and reading one are the hot routes: a well-formed request by a verified
caller is answered directly (``platform.http.direct``), any other by FastAPI as declared.
"""

import json
from collections.abc import Callable
from typing import Annotated, TypeVar

from fastapi import APIRouter, Depends, Header, Query, Request, Response, status
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    WithJsonSchema,
    field_validator,
)
from pydantic.config import JsonDict

from shoplab.contracts.views import LineView, OrderList, OrderSummary, OrderView
from shoplab.orders.domain.model import MAX_LINES, MAX_QUANTITY, Order
from shoplab.orders.service_layer import services
from shoplab.orders.service_layer.commands import PlaceOrder
from shoplab.orders.service_layer.services import Connect
from shoplab.orders.service_layer.unit_of_work import OrdersUnitOfWork
from shoplab.platform.auth import Authenticator, Principal
from shoplab.platform.http.direct import Answered, DirectRoute, served_directly, verified_caller
from shoplab.platform.http.openapi import problems
from shoplab.platform.telemetry.orders import about_order

MAX_LISTED = 100
PAYMENT_METHODS = (
    "pm_card_visa",
    "pm_card_mastercard",
    "pm_card_chargeDeclined",
    "pm_card_chargeDeclinedInsufficientFunds",
)
"""The test cards of the public contract. Payments decides which methods it accepts and
refuses the others (422); this list only documents them."""

Sku = Annotated[str, StringConstraints(min_length=1, max_length=64)]
PaymentMethod = Annotated[
    str,
    StringConstraints(min_length=1, max_length=64),
    WithJsonSchema(
        {
            "type": "string",
            "enum": list(PAYMENT_METHODS),
            "description": "A test card: the first two are charged, `pm_card_chargeDeclined` "
            "is declined, `pm_card_chargeDeclinedInsufficientFunds` lacks the funds.",
        }
    ),
]
PLACEMENT_EXAMPLE: JsonDict = {
    "items": [{"sku": "CB-005", "quantity": 1}],
    "payment_method": "pm_card_visa",
}

TO_THE_ORDER = {
    name: {
        "operationId": operation,
        "parameters": {"order_id": "$response.body#/order_id"},
        "description": description,
    }
    for name, operation, description in (
        ("GetOrder", "get_order", "Read the order placed, until its status is final."),
        ("CancelOrder", "cancel_order", "Cancel the order placed, once it is APPROVED."),
        ("GetOrderDetails", "order_details", "The order placed, with payment and notifications."),
    )
}
"""OpenAPI links: where the ``order_id`` of a placement's answer leads."""
LOCATION = {
    "description": "Where the order can be read: `/api/orders/{order_id}`.",
    "required": True,
    "schema": {"type": "string"},
}


class LineRequest(BaseModel):
    """One line of an order: a sku and how many."""

    model_config = ConfigDict(extra="forbid", strict=True)

    sku: Sku
    quantity: int = Field(ge=1, le=MAX_QUANTITY)


class PlaceOrderRequest(BaseModel):
    """1 to 20 lines, each sku on one line only, and how to pay."""

    model_config = ConfigDict(
        extra="forbid", strict=True, json_schema_extra={"examples": [PLACEMENT_EXAMPLE]}
    )

    items: list[LineRequest] = Field(min_length=1, max_length=MAX_LINES)
    payment_method: PaymentMethod

    @field_validator("items")
    @classmethod
    def _distinct_skus(cls, items: list[LineRequest]) -> list[LineRequest]:
        if len({item.sku for item in items}) != len(items):
            raise ValueError("each sku may appear on one line only")
        return items


class OrderAccepted(BaseModel):
    """The order and its status now: a placement may still be ``PENDING``."""

    order_id: str
    status: str


MAX_KEY_LENGTH = 255
IdempotencyKey = Annotated[
    str | None, Header(alias="Idempotency-Key", min_length=1, max_length=MAX_KEY_LENGTH)
]


def idempotency_key(request: Request) -> tuple[str | None, bool]:
    """The ``Idempotency-Key`` (or None), and whether ``IdempotencyKey`` accepts it."""
    key = request.headers.get("idempotency-key")
    return key, key is None or 1 <= len(key) <= MAX_KEY_LENGTH


def placement(request: Request, body: bytes) -> PlaceOrderRequest | None:
    """The body as ``place_order`` validates it, when it is JSON and valid; else None."""
    if request.headers.get("content-type", "").lower() != "application/json":
        return None
    try:
        return PlaceOrderRequest.model_validate(json.loads(body))
    except (ValueError, RecursionError):  # not JSON, too deep, or not a placement: FastAPI says why
        return None


def order_view(order: Order) -> OrderView:
    return OrderView(
        order_id=order.order_id,
        status=order.status.value,
        reason=order.reason.value if order.reason else None,
        total_cents=order.total_cents,
        currency=order.currency,
        created_at=order.created_at,
        updated_at=order.updated_at,
        customer_id=order.customer_id,
        items=[
            LineView(sku=line.sku, quantity=line.quantity, unit_price_cents=line.unit_price_cents)
            for line in order.lines
        ],
    )


U = TypeVar("U", bound=OrdersUnitOfWork)


def build_router(new_uow: Callable[[], U], connect: Connect[U], auth: Authenticator) -> APIRouter:
    router = APIRouter(prefix="/api/orders", tags=["orders"], route_class=DirectRoute)
    signed_in = Depends(auth.customer)

    async def place(principal: Principal, body: PlaceOrderRequest, key: str | None) -> Answered:
        command = PlaceOrder(
            customer_id=principal.customer_id,
            quantities={item.sku: item.quantity for item in body.items},
            payment_method=body.payment_method,
            idempotency_key=key,
        )
        order = await services.place_order(new_uow(), connect, command)
        accepted = OrderAccepted(order_id=order.order_id, status=order.status.value)
        return Answered(accepted, {"Location": f"/api/orders/{order.order_id}"})

    async def place_directly(request: Request) -> Answered | None:
        principal, (key, key_accepted) = verified_caller(request), idempotency_key(request)
        if principal is None or not key_accepted:
            return None
        body = placement(request, await request.body())
        return None if body is None else await place(principal, body, key)

    async def read(order_id: str, principal: Principal) -> OrderView:
        about_order(order_id)
        return order_view(await services.get_order(new_uow(), order_id, principal))

    async def read_directly(request: Request) -> Answered | None:
        principal = verified_caller(request)
        order_id = request.scope["path_params"]["order_id"]
        return None if principal is None else Answered(await read(order_id, principal))

    @router.post(
        "",
        status_code=status.HTTP_202_ACCEPTED,
        responses={
            202: {"headers": {"Location": LOCATION}, "links": TO_THE_ORDER},
            **problems(
                {
                    409: "The Idempotency-Key was sent before with another body.",
                    422: "The body does not match the schema, names an unknown sku or one "
                    "sku twice, or a payment method that is not accepted.",
                }
            ),
        },
    )
    @served_directly(place_directly)
    async def place_order(
        body: PlaceOrderRequest,
        principal: Annotated[Principal, signed_in],
        response: Response,
        key: IdempotencyKey = None,
    ) -> OrderAccepted:
        """Place an order; its final status may come later (poll the Location)."""
        placed = await place(principal, body, key)
        response.headers.update(placed.headers)
        accepted: OrderAccepted = placed.content
        return accepted

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

    @router.get(
        "/{order_id}",
        responses=problems({404: "No order of the caller's has this id."}),
    )
    @served_directly(read_directly)
    async def get_order(order_id: str, principal: Annotated[Principal, signed_in]) -> OrderView:
        """One order of the caller's (an administrator may read any)."""
        return await read(order_id, principal)

    @router.post(
        "/{order_id}/cancel",
        status_code=status.HTTP_202_ACCEPTED,
        responses=problems(
            {
                404: "No order of the caller's has this id.",
                409: "The order is not APPROVED: only an approved order can be cancelled.",
            }
        ),
    )
    async def cancel_order(
        order_id: str, principal: Annotated[Principal, signed_in]
    ) -> OrderAccepted:
        """Cancel an approved order: stock is returned and the payment refunded."""
        about_order(order_id)
        order = await services.cancel_order(new_uow(), connect, order_id, principal)
        return OrderAccepted(order_id=order.order_id, status=order.status.value)

    return router
