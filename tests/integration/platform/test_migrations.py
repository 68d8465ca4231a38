"""Each context's migrations build exactly the tables its code declares."""

from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Connection, inspect, text

from shoplab.catalog.adapters.tables import MIGRATIONS as CATALOG
from shoplab.history.adapters.tables import MIGRATIONS as HISTORY
from shoplab.identity.adapters.tables import MIGRATIONS as IDENTITY
from shoplab.inventory.adapters.tables import MIGRATIONS as INVENTORY
from shoplab.notifications.adapters.tables import MIGRATIONS as NOTIFICATIONS
from shoplab.orders.adapters.tables import MIGRATIONS as ORDERS
from shoplab.payments.adapters.tables import MIGRATIONS as PAYMENTS
from shoplab.platform.persistence.database import Database, ensure_database
from shoplab.platform.persistence.migrate import Migrations, upgrade

from ..databases import fresh_database, skip_without_postgres

ALL = [CATALOG, HISTORY, IDENTITY, INVENTORY, NOTIFICATIONS, ORDERS, PAYMENTS]


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

    assert await database.run_sync(differences) == []


async def test_every_table_carries_its_context_prefix(database: Database) -> None:
    for migrations in ALL:
        await upgrade(database, migrations)

    def table_names(connection: Connection) -> list[str]:
        return inspect(connection).get_table_names()

    names = await database.run_sync(table_names)
    prefixes = tuple(f"{m.context}_" for m in ALL)
    assert len(names) >= 14
    assert all(name.startswith(prefixes) for name in names), names


async def test_a_missing_postgres_database_is_created(tmp_path: Path) -> None:
    skip_without_postgres()
    async with fresh_database("postgres", tmp_path) as existing:
        missing = existing + "_new"
        await ensure_database(missing)
        await ensure_database(missing)  # a second start finds it
        created = Database(missing)
        try:
            assert await created.ping()
        finally:
            await created.dispose()
            maintenance = Database(existing)
            async with maintenance.engine.connect() as connection:
                await connection.execute(text("COMMIT"))
                name = missing.rsplit("/", 1)[1]
                await connection.execute(text(f'DROP DATABASE "{name}" WITH (FORCE)'))
            await maintenance.dispose()
