"""``GET /api/admin/sagas/{order_id}``: the steps of an order's saga (microservices mode).

Both saga styles answer in the same shape: the orchestrated saga from its own history,
the choreographed one from the events the orders service saw. The monolith, which settles
an order in one transaction, declares the same operation and answers it with a 404.
"""

from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends
from pydantic import BaseModel

from shoplab.orders.domain.saga import StepRecord
from shoplab.orders.service_layer.choreography import choreography_of
from shoplab.orders.service_layer.orchestration import saga_of
from shoplab.orders.service_layer.unit_of_work import OrdersUnitOfWork
from shoplab.platform.auth import Authenticator, Principal
from shoplab.platform.errors import NotFound


class SagaStepView(BaseModel):
    name: str
    status: str
    at: datetime


class SagaView(BaseModel):
    order_id: str
    state: str
    steps: list[SagaStepView]

    @classmethod
    def of(cls, order_id: str, state: str, steps: list[StepRecord]) -> "SagaView":
        return cls(
            order_id=order_id,
            state=state,
            steps=[SagaStepView(name=r.name, status=r.status, at=r.at) for r in steps],
        )


Lookup = Callable[[OrdersUnitOfWork, str], Awaitable[SagaView]]


async def orchestrated(uow: OrdersUnitOfWork, order_id: str) -> SagaView:
    found = await saga_of(uow, order_id)
    return SagaView.of(found.order_id, found.state.value, found.history)


async def choreographed(uow: OrdersUnitOfWork, order_id: str) -> SagaView:
    found = await choreography_of(uow, order_id)
    return SagaView.of(found.order_id, found.state.value, found.steps)


def build_saga_router(
    new_uow: Callable[[], OrdersUnitOfWork], auth: Authenticator, lookup: Lookup = orchestrated
) -> APIRouter:
    router = APIRouter(tags=["administration"])

    @router.get("/api/admin/sagas/{order_id}")
    async def saga(order_id: str, _admin: Annotated[Principal, Depends(auth.admin)]) -> SagaView:
        """Where the order's saga stands, and every step it took."""
        return await lookup(new_uow(), order_id)

    return router


class NoSagaInMonolith(NotFound):
    def __init__(self) -> None:
        super().__init__(
            "The modular monolith places an order in one transaction: there is no saga. "
            "Run the microservices mode to see one."
        )


def build_no_saga_router(auth: Authenticator) -> APIRouter:
    """The operation as the services declare it, so the public document is the same in
    both modes; in the monolith every answer is the 404 that says why."""
    router = APIRouter(tags=["administration"])

    @router.get("/api/admin/sagas/{order_id}", response_model=SagaView)
    async def saga(order_id: str, _admin: Annotated[Principal, Depends(auth.admin)]) -> None:
        """Where the order's saga stands, and every step it took."""
        raise NoSagaInMonolith

    return router
