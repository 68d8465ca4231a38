"""The inventory context on a SQLite file, stocked with ten of ``SKU-1``: the real command
handlers the messaging tests put behind a broker. Import ``context`` to use the fixture."""

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from shoplab.inventory.bootstrap import InventoryContext
from shoplab.inventory.domain.model import StockItem
from shoplab.platform.persistence.database import Database


@pytest.fixture
async def context(tmp_path: Path) -> AsyncIterator[InventoryContext]:
    database = Database(f"sqlite:///{tmp_path / 'inventory.db'}")
    context = InventoryContext(database)
    await context.migrate()
    async with context.uow() as uow:
        await uow.stock.add(StockItem("SKU-1", 10))
        await uow.commit()
    yield context
    await database.dispose()
