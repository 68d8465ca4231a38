"""``GET /api/admin/sagas/{order_id}``: the steps of an order's saga (microservices mode)."""

from collections.abc import Callable
from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends
from pydantic import BaseModel

from shoplab.orders.service_layer.saga import saga_of
from shoplab.orders.service_layer.unit_of_work import OrdersUnitOfWork
from shoplab.platform.auth import Authenticator, Principal


class SagaStepView(BaseModel):
    name: str
    status: str
    at: datetime


class SagaView(BaseModel):
    order_id: str
    state: str
    steps: list[SagaStepView]


def build_saga_router(new_uow: Callable[[], OrdersUnitOfWork], auth: Authenticator) -> APIRouter:
    router = APIRouter(tags=["administration"])

    @router.get("/api/admin/sagas/{order_id}")
    async def saga(order_id: str, _admin: Annotated[Principal, Depends(auth.admin)]) -> SagaView:
        """Where the order's saga stands, and every step it took."""
        found = await saga_of(new_uow(), order_id)
        return SagaView(
            order_id=found.order_id,
            state=found.state.value,
            steps=[SagaStepView(name=r.name, status=r.status, at=r.at) for r in found.history],
        )

    return router
