"""Alembic migrations, one history per context.

Each context keeps its revisions in ``<context>/adapters/migrations/`` and its
own version table (``<context>_alembic_version``), so the monolith's shared
database and a service's own database are migrated by the same files.

Create a revision after changing a context's tables::

    python -m shoplab.platform.persistence.migrate orders "add a column"
"""

import sys
from dataclasses import dataclass
from importlib import import_module
from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import Connection, MetaData, create_engine

from shoplab.platform.persistence.database import Database

_ENV_DIR = Path(__file__).parent / "migrations"


@dataclass(frozen=True)
class Migrations:
    """Where one context's revisions live and which metadata they build."""

    context: str
    metadata: MetaData
    versions_dir: Path

    def config(self, connection: Connection) -> Config:
        config = Config()
        config.set_main_option("path_separator", "os")
        config.set_main_option("script_location", str(_ENV_DIR))
        config.set_main_option("version_locations", str(self.versions_dir))
        config.attributes.update(
            connection=connection,
            metadata=self.metadata,
            version_table=f"{self.context}_alembic_version",
        )
        return config


async def upgrade(database: Database, migrations: Migrations) -> None:
    """Bring the context's tables to the newest revision."""

    def _upgrade(connection: Connection) -> None:
        command.upgrade(migrations.config(connection), "head")

    await database.run_sync(_upgrade)


def _revision(context: str, message: str) -> None:
    """Autogenerate a revision for ``context`` against a scratch SQLite database."""
    module = import_module(f"shoplab.{context}.adapters.tables")
    migrations: Migrations = module.MIGRATIONS
    engine = create_engine("sqlite://")
    with engine.begin() as connection:
        config = migrations.config(connection)
        command.upgrade(config, "head")
        command.revision(config, message=message, autogenerate=True)


if __name__ == "__main__":
    _revision(sys.argv[1], sys.argv[2] if len(sys.argv) > 2 else "change")
