"""Inventory's REST endpoints: the administrators' stock counts."""

from collections.abc import Callable
from typing import Annotated

from fastapi import APIRouter, Depends
from pydantic import BaseModel, ConfigDict, Field

from shoplab.inventory.domain.model import MAX_ON_HAND, StockItem
from shoplab.inventory.service_layer import services
from shoplab.inventory.service_layer.unit_of_work import InventoryUnitOfWork
from shoplab.platform.auth import Authenticator, Principal
from shoplab.platform.http.openapi import problems

NO_STOCK = problems({404: "No stock is kept for this sku."})


class StockCount(BaseModel):
    """The quantity counted on hand."""

    model_config = ConfigDict(extra="forbid", strict=True)

    on_hand: int = Field(ge=0, le=MAX_ON_HAND)


class StockLevel(BaseModel):
    """The stock of a sku: ``available = on_hand - reserved``."""

    sku: str
    on_hand: int
    reserved: int
    available: int

    @classmethod
    def of(cls, item: StockItem) -> "StockLevel":
        return cls(
            sku=item.sku, on_hand=item.on_hand, reserved=item.reserved, available=item.available
        )


def build_router(new_uow: Callable[[], InventoryUnitOfWork], auth: Authenticator) -> APIRouter:
    router = APIRouter(prefix="/api/admin/inventory", tags=["administration"])
    admin_only = Depends(auth.admin)

    @router.put("/{sku}", responses=NO_STOCK)
    async def count_stock(
        sku: str, body: StockCount, _admin: Annotated[Principal, admin_only]
    ) -> StockLevel:
        """Set the counted quantity on hand of a sku."""
        return StockLevel.of(await services.count_stock(new_uow(), sku, body.on_hand))

    @router.get("/{sku}", responses=NO_STOCK)
    async def stock_level(sku: str, _admin: Annotated[Principal, admin_only]) -> StockLevel:
        """Read the stock of a sku: on hand, reserved and available."""
        return StockLevel.of(await services.stock_level(new_uow(), sku))

    return router
