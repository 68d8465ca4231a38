"""Catalog's ports in memory: its unit of work and inventory's answer about stock."""

from shoplab.catalog.domain.model import Product
from shoplab.catalog.service_layer.ports import StockAvailability
from shoplab.catalog.service_layer.unit_of_work import CatalogUnitOfWork, ProductRepository

from ..fakes import FakeRepository, FakeUnitOfWork


class FakeProductRepository(FakeRepository[Product], ProductRepository):
    async def all(self) -> list[Product]:
        return sorted(self._all(), key=lambda product: product.sku)

    async def get_many(self, skus: list[str]) -> dict[str, Product]:
        return {sku: product for sku in skus if (product := self._get(sku)) is not None}

    async def add(self, product: Product) -> None:
        self._insert(product.sku, product)


class FakeCatalogUnitOfWork(FakeUnitOfWork, CatalogUnitOfWork):
    products: FakeProductRepository

    def __init__(self, *products: Product) -> None:
        self.products = FakeProductRepository()
        for product in products:
            self.products.rows[product.sku] = product
        super().__init__(self.products)


class FakeStockAvailability(StockAvailability):
    """Inventory's answer, and the skus it was asked about."""

    def __init__(self, available: dict[str, int]) -> None:
        self.available_by_sku = available
        self.asked: list[str] = []

    async def available(self, sku: str) -> int:
        self.asked.append(sku)
        return self.available_by_sku.get(sku, 0)
