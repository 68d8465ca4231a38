"""Products in SQL."""

from dataclasses import asdict

from shoplab.catalog.domain.model import Product
from shoplab.platform.persistence.sql import Sql, in_list

COLUMNS = "sku, name, description, price_cents, currency"
ALL_PRODUCTS = f"SELECT {COLUMNS} FROM catalog_products ORDER BY sku"
ADD_PRODUCT = (
    f"INSERT INTO catalog_products ({COLUMNS})"
    " VALUES (:sku, :name, :description, :price_cents, :currency)"
)


class SqlProductRepository:
    def __init__(self, sql: Sql) -> None:
        self._sql = sql

    async def all(self) -> list[Product]:
        return [Product(*row) for row in await self._sql.all(ALL_PRODUCTS)]

    async def get_many(self, skus: list[str]) -> dict[str, Product]:
        if not skus:
            return {}
        placeholders, params = in_list("sku", skus)
        rows = await self._sql.all(
            f"SELECT {COLUMNS} FROM catalog_products WHERE sku IN ({placeholders})", params
        )
        return {row.sku: Product(*row) for row in rows}

    async def add(self, product: Product) -> None:
        await self._sql.execute(ADD_PRODUCT, asdict(product))
