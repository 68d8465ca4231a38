"""The catalog's public REST endpoints (no token needed)."""

from collections.abc import Callable

from fastapi import APIRouter
from pydantic import BaseModel

from shoplab.catalog.service_layer import services
from shoplab.catalog.service_layer.ports import StockAvailability
from shoplab.catalog.service_layer.unit_of_work import CatalogUnitOfWork
from shoplab.platform.http.openapi import problems

TO_PRODUCT_PAGE = {
    "ProductPage": {
        "operationId": "product_page",
        "parameters": {"sku": "$response.body#/items/0/sku"},
        "description": "The page of the first product listed.",
    }
}


class ProductSummary(BaseModel):
    """A product as the catalog lists it."""

    sku: str
    name: str
    price_cents: int
    currency: str


class ProductList(BaseModel):
    """Every product on sale, by sku."""

    items: list[ProductSummary]


class ProductPage(BaseModel):
    """One product; ``available`` is the stock that can be ordered now."""

    sku: str
    name: str
    description: str
    price_cents: int
    currency: str
    available: int


def build_router(new_uow: Callable[[], CatalogUnitOfWork], stock: StockAvailability) -> APIRouter:
    router = APIRouter(prefix="/api/products", tags=["catalog"])

    @router.get("", responses={200: {"links": TO_PRODUCT_PAGE}})
    async def list_products() -> ProductList:
        """Every product on sale, by sku."""
        products = await services.list_products(new_uow())
        return ProductList(
            items=[ProductSummary.model_validate(p, from_attributes=True) for p in products]
        )

    @router.get("/{sku}", responses=problems({404: "No product has this sku."}))
    async def product_page(sku: str) -> ProductPage:
        """One product, with the stock that can be ordered now."""
        product, available = await services.product_page(new_uow(), sku, stock)
        return ProductPage(
            sku=product.sku,
            name=product.name,
            description=product.description,
            price_cents=product.price_cents,
            currency=product.currency,
            available=available,
        )

    return router
