"""The catalog unit of work."""

from sqlalchemy.ext.asyncio import AsyncSession

from shoplab.catalog.adapters.repository import SqlProductRepository
from shoplab.platform.persistence.unit_of_work import SqlUnitOfWork


class CatalogUnitOfWork(SqlUnitOfWork):
    products: SqlProductRepository

    def bind(self, session: AsyncSession) -> None:
        self.products = SqlProductRepository(session)
