"""Inventory's answers to other services (microservices mode; not routed by the gateway)."""

from collections.abc import Callable

from fastapi import APIRouter
from pydantic import BaseModel

from shoplab.inventory.domain.model import UnknownSku
from shoplab.inventory.service_layer import services
from shoplab.inventory.service_layer.unit_of_work import InventoryUnitOfWork


class Availability(BaseModel):
    sku: str
    available: int


def build_internal_router(new_uow: Callable[[], InventoryUnitOfWork]) -> APIRouter:
    router = APIRouter(prefix="/internal", include_in_schema=False)

    @router.get("/availability/{sku}")
    async def availability(sku: str) -> Availability:
        """What can be ordered now; a sku without stock has 0."""
        try:
            item = await services.stock_level(new_uow(), sku)
        except UnknownSku:
            return Availability(sku=sku, available=0)
        return Availability(sku=sku, available=item.available)

    return router
