"""Products in SQL."""

from dataclasses import asdict

from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from shoplab.catalog.adapters.tables import products
from shoplab.catalog.domain.model import Product


class SqlProductRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def all(self) -> list[Product]:
        rows = await self._session.execute(select(products).order_by(products.c.sku))
        return [Product(**row._mapping) for row in rows]

    async def get_many(self, skus: list[str]) -> dict[str, Product]:
        rows = await self._session.execute(select(products).where(products.c.sku.in_(skus)))
        return {row.sku: Product(**row._mapping) for row in rows}

    async def add(self, product: Product) -> None:
        await self._session.execute(insert(products), asdict(product))
