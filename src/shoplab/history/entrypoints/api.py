"""The history's REST endpoints: the customer's order list, and the view for operators.

``GET /api/orders`` answers exactly what the orders service answers (same fields,
same order, same limit), from the view: it may lag the writes by a moment.
The administration routes show what the list does not (payments, notifications),
the lag, and start a rebuild.
"""

from collections.abc import Callable
from dataclasses import asdict
from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Query, status
from pydantic import BaseModel

from shoplab.contracts.views import OrderList, OrderSummary
from shoplab.history.domain.model import OrderHistory
from shoplab.history.service_layer import queries
from shoplab.history.service_layer.projector import Lag, Projector
from shoplab.history.service_layer.unit_of_work import HistoryUnitOfWork
from shoplab.platform.auth import Authenticator, Principal

MAX_LISTED = 100


class HistoryEntry(BaseModel):
    """One order as the view holds it: what the list shows, and the facts behind it."""

    order_id: str
    customer_id: str | None
    status: str
    reason: str | None
    total_cents: int | None
    currency: str | None
    created_at: datetime | None
    updated_at: datetime | None
    charged_cents: int
    refunded_cents: int
    payment_failure: str | None
    notifications: list[str]

    @classmethod
    def of(cls, entry: OrderHistory) -> "HistoryEntry":
        fields = {**asdict(entry), "status": entry.status.value}
        return cls(**{**fields, "notifications": sorted(entry.notifications)})


class HistoryDump(BaseModel):
    items: list[HistoryEntry]


class SourceLag(BaseModel):
    position: int
    head: int
    messages_behind: int
    seconds_behind: float


class HistoryStatus(BaseModel):
    caught_up: bool
    sources: dict[str, SourceLag]


def lag_view(lags: list[Lag]) -> HistoryStatus:
    return HistoryStatus(
        caught_up=all(lag.caught_up for lag in lags),
        sources={
            lag.source: SourceLag(
                position=lag.position,
                head=lag.head,
                messages_behind=lag.messages,
                seconds_behind=round(lag.seconds, 3),
            )
            for lag in lags
        },
    )


def build_router(
    new_uow: Callable[[], HistoryUnitOfWork], projector: Projector, auth: Authenticator
) -> APIRouter:
    router = APIRouter()
    signed_in = Depends(auth.customer)
    admin = Depends(auth.admin)

    @router.get("/api/orders", tags=["orders"])
    async def list_orders(
        principal: Annotated[Principal, signed_in],
        limit: Annotated[int, Query(ge=1, le=MAX_LISTED)] = MAX_LISTED,
    ) -> OrderList:
        """The caller's orders, newest first (the newest ``limit``, 100 by default)."""
        entries = await queries.orders_of(new_uow(), principal.customer_id, limit)
        return OrderList(
            items=[OrderSummary.model_validate(e, from_attributes=True) for e in entries]
        )

    @router.get("/api/admin/history/orders", tags=["administration"])
    async def dump(_admin: Annotated[Principal, admin]) -> HistoryDump:
        """Every order the view holds, by order id, with its payment and notification facts."""
        return HistoryDump(items=[HistoryEntry.of(e) for e in await queries.everything(new_uow())])

    @router.get("/api/admin/history/orders/{order_id}", tags=["administration"])
    async def entry(order_id: str, _admin: Annotated[Principal, admin]) -> HistoryEntry:
        """One order as the view holds it."""
        return HistoryEntry.of(await queries.entry(new_uow(), order_id))

    @router.get("/api/admin/history/status", tags=["administration"])
    async def lag(_admin: Annotated[Principal, admin]) -> HistoryStatus:
        """How far behind its logs the view is, per source, measured now."""
        return lag_view(await projector.lag())

    @router.post(
        "/api/admin/history/rebuild", tags=["administration"], status_code=status.HTTP_202_ACCEPTED
    )
    async def rebuild(_admin: Annotated[Principal, admin]) -> HistoryStatus:
        """Empty the view and replay every log from its first event; poll the status."""
        await projector.rebuild()
        return lag_view(await projector.lag())

    return router
