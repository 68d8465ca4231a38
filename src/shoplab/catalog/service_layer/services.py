"""Catalog use cases: browsing, pricing for orders, and seeding."""

from collections.abc import Iterable

from shoplab.catalog.domain.model import Product, UnknownProduct
from shoplab.catalog.service_layer.ports import StockAvailability
from shoplab.catalog.service_layer.unit_of_work import CatalogUnitOfWork


async def list_products(uow: CatalogUnitOfWork) -> list[Product]:
    async with uow.read_only():
        return await uow.products.all()


async def product_page(
    uow: CatalogUnitOfWork, sku: str, stock: StockAvailability
) -> tuple[Product, int]:
    """A product with the stock that can be ordered now."""
    async with uow.read_only():
        product = (await uow.products.get_many([sku])).get(sku)
    if product is None:
        raise UnknownProduct(sku)
    return product, await stock.available(sku)


async def price_list(uow: CatalogUnitOfWork, skus: Iterable[str]) -> dict[str, Product]:
    """The current products for ``skus``; unknown skus are simply absent."""
    async with uow.read_only():
        return await uow.products.get_many(list(skus))


async def seed(uow: CatalogUnitOfWork, products: Iterable[Product]) -> None:
    """Add the products that are not in the catalog yet; safe to run at every start."""
    async with uow:
        wanted = {product.sku: product for product in products}
        existing = await uow.products.get_many(list(wanted))
        for sku, product in wanted.items():
            if sku not in existing:
                await uow.products.add(product)
        await uow.commit()
