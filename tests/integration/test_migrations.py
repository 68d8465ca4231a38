"""Each context's migrations build exactly the tables its code declares."""

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Connection, inspect

from shoplab.catalog.adapters.tables import MIGRATIONS as CATALOG
from shoplab.identity.adapters.tables import MIGRATIONS as IDENTITY
from shoplab.inventory.adapters.tables import MIGRATIONS as INVENTORY
from shoplab.notifications.adapters.tables import MIGRATIONS as NOTIFICATIONS
from shoplab.orders.adapters.tables import MIGRATIONS as ORDERS
from shoplab.payments.adapters.tables import MIGRATIONS as PAYMENTS
from shoplab.platform.database import Database
from shoplab.platform.migrate import Migrations, upgrade

ALL = [CATALOG, IDENTITY, INVENTORY, NOTIFICATIONS, ORDERS, PAYMENTS]


@pytest.mark.parametrize("migrations", ALL, ids=lambda m: m.context)
async def test_migrations_match_the_declared_tables(
    database: Database, migrations: Migrations
) -> None:
    await upgrade(database, migrations)
    await upgrade(database, migrations)  # a second run is a no-op

    def differences(connection: Connection) -> list[object]:
        context = MigrationContext.configure(
            connection, opts={"version_table": f"{migrations.context}_alembic_version"}
        )
        return list(compare_metadata(context, migrations.metadata))

    async with database.engine.connect() as connection:
        assert await connection.run_sync(differences) == []


async def test_every_table_carries_its_context_prefix(database: Database) -> None:
    for migrations in ALL:
        await upgrade(database, migrations)

    def table_names(connection: Connection) -> list[str]:
        return inspect(connection).get_table_names()

    async with database.engine.connect() as connection:
        names = await connection.run_sync(table_names)
    prefixes = tuple(f"{m.context}_" for m in ALL)
    assert len(names) >= 14
    assert all(name.startswith(prefixes) for name in names), names
