"""Catalog's answers to other services (microservices mode; not routed by the gateway)."""

from collections.abc import Callable
from typing import Annotated

from fastapi import APIRouter, Query
from pydantic import BaseModel

from shoplab.catalog.service_layer import services
from shoplab.catalog.service_layer.unit_of_work import CatalogUnitOfWork


class PriceView(BaseModel):
    unit_price_cents: int
    currency: str


class PriceList(BaseModel):
    prices: dict[str, PriceView]


def build_internal_router(new_uow: Callable[[], CatalogUnitOfWork]) -> APIRouter:
    router = APIRouter(prefix="/internal", include_in_schema=False)

    @router.get("/prices")
    async def prices(sku: Annotated[list[str], Query(max_length=100)]) -> PriceList:
        """Current prices of ``sku`` (repeatable); unknown skus are absent."""
        products = await services.price_list(new_uow(), sku)
        return PriceList(
            prices={
                s: PriceView(unit_price_cents=p.price_cents, currency=p.currency)
                for s, p in products.items()
            }
        )

    return router
