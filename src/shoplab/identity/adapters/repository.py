"""Customers in SQL."""

from datetime import UTC, datetime

from sqlalchemy import insert, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from shoplab.identity.adapters.tables import customers
from shoplab.identity.domain.model import Customer, EmailTaken, Role


class SqlCustomerRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def by_email(self, email: str) -> Customer | None:
        row = (
            await self._session.execute(select(customers).where(customers.c.email == email))
        ).first()
        if row is None:
            return None
        return Customer(row.customer_id, row.email, row.name, row.password_hash, Role(row.role))

    async def add(self, customer: Customer) -> None:
        """Insert; a concurrent registration of the same email loses on the unique index."""
        try:
            await self._insert(customer)
        except IntegrityError as error:
            raise EmailTaken from error

    async def _insert(self, customer: Customer) -> None:
        await self._session.execute(
            insert(customers).values(
                customer_id=customer.customer_id,
                email=customer.email,
                name=customer.name,
                password_hash=customer.password_hash,
                role=customer.role.value,
                created_at=datetime.now(UTC),
            )
        )
