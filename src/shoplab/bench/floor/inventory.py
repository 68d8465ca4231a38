"""The floor's inventory: reserves on ``ReserveStock``, commits on ``CommitStock``."""

import asyncio
import sqlite3
import sys
from pathlib import Path

import orjson
import uvloop

from shoplab.bench.floor.common import (
    Body,
    Outgoing,
    connect,
    consume,
    mark_ready,
    open_database,
    subscribe,
)

SCHEMA = """
CREATE TABLE IF NOT EXISTS reservations (
    order_id TEXT PRIMARY KEY, items BLOB NOT NULL, state TEXT NOT NULL
);
"""


def reserve(database: sqlite3.Connection, body: Body) -> Outgoing:
    database.execute(
        "INSERT OR IGNORE INTO reservations VALUES (?, ?, 'RESERVED')",
        (body["order_id"], orjson.dumps(body["items"])),
    )
    return [("floor.inventory.events.StockReserved", {"order_id": body["order_id"]})]


def commit(database: sqlite3.Connection, body: Body) -> Outgoing:
    database.execute(
        "UPDATE reservations SET state = 'COMMITTED' WHERE order_id = ?", (body["order_id"],)
    )
    return []


async def main(url: str, folder: Path) -> None:
    _, jetstream = await connect(url, "floor-inventory")
    database = open_database(folder / "inventory.db", SCHEMA)
    reserving = await subscribe(jetstream, "floor.inventory.commands.ReserveStock", "reserve")
    committing = await subscribe(jetstream, "floor.inventory.commands.CommitStock", "commit")
    mark_ready(folder, "inventory")
    await asyncio.gather(
        consume(reserving, jetstream, database, reserve),
        consume(committing, jetstream, database, commit),
    )


if __name__ == "__main__":
    uvloop.run(main(sys.argv[1], Path(sys.argv[2])))
