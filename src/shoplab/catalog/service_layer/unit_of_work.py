"""The catalog unit of work: the ports of its storage, and their SQL implementation.

The use cases see ``CatalogUnitOfWork`` and its ``ProductRepository``;
``SqlCatalogUnitOfWork`` implements them on the catalog's database.
"""

from typing import Protocol

from shoplab.catalog.adapters.repository import SqlProductRepository
from shoplab.catalog.domain.model import Product
from shoplab.platform.persistence.sql import Sql
from shoplab.platform.persistence.unit_of_work import SqlUnitOfWork, UnitOfWork


class ProductRepository(Protocol):
    async def all(self) -> list[Product]:
        """Every product, by sku."""
        ...

    async def get_many(self, skus: list[str]) -> dict[str, Product]:
        """The products of ``skus`` that exist, by sku."""
        ...

    async def add(self, product: Product) -> None: ...


class CatalogUnitOfWork(UnitOfWork, Protocol):
    products: ProductRepository


class SqlCatalogUnitOfWork(SqlUnitOfWork, CatalogUnitOfWork):
    products: SqlProductRepository

    def bind(self, sql: Sql) -> None:
        self.products = SqlProductRepository(sql)
