"""The floor's notifications: one row per ``OrderApproved``."""

import sqlite3
import sys
import time
from pathlib import Path

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
CREATE TABLE IF NOT EXISTS notifications (
    order_id TEXT PRIMARY KEY, kind TEXT NOT NULL, sent_at REAL NOT NULL
);
"""


def notify(database: sqlite3.Connection, body: Body) -> Outgoing:
    database.execute(
        "INSERT OR IGNORE INTO notifications VALUES (?, 'ORDER_APPROVED', ?)",
        (body["order_id"], time.time()),
    )
    return []


async def main(url: str, folder: Path) -> None:
    _, jetstream = await connect(url, "floor-notifications")
    database = open_database(folder / "notifications.db", SCHEMA)
    approved = await subscribe(jetstream, "floor.orders.events.OrderApproved", "notify")
    mark_ready(folder, "notifications")
    await consume(approved, jetstream, database, notify)


if __name__ == "__main__":
    uvloop.run(main(sys.argv[1], Path(sys.argv[2])))
