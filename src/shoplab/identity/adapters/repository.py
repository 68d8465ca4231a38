"""Customers in SQL."""

from datetime import UTC, datetime

from shoplab.identity.domain.model import Customer, EmailTaken, Role
from shoplab.platform.persistence.sql import ConstraintViolated, Sql

BY_EMAIL = (
    "SELECT customer_id, email, name, password_hash, role FROM identity_customers"
    " WHERE email = :email"
)
ADD_CUSTOMER = (
    "INSERT INTO identity_customers (customer_id, email, name, password_hash, role, created_at)"
    " VALUES (:customer_id, :email, :name, :password_hash, :role, :created_at)"
)


class SqlCustomerRepository:
    def __init__(self, sql: Sql) -> None:
        self._sql = sql

    async def by_email(self, email: str) -> Customer | None:
        row = await self._sql.one(BY_EMAIL, {"email": email})
        if row is None:
            return None
        return Customer(row.customer_id, row.email, row.name, row.password_hash, Role(row.role))

    async def add(self, customer: Customer) -> None:
        """Insert; a concurrent registration of the same email loses on the unique index."""
        try:
            await self._sql.execute(
                ADD_CUSTOMER,
                {
                    "customer_id": customer.customer_id,
                    "email": customer.email,
                    "name": customer.name,
                    "password_hash": customer.password_hash,
                    "role": customer.role.value,
                    "created_at": datetime.now(UTC),
                },
            )
        except ConstraintViolated as error:
            raise EmailTaken from error
