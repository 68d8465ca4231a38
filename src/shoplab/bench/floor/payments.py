"""The floor's payments: charges on ``ChargePayment`` (every card is accepted)."""

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
CREATE TABLE IF NOT EXISTS payments (
    order_id TEXT PRIMARY KEY, method TEXT NOT NULL, charged_at REAL NOT NULL
);
"""


def charge(database: sqlite3.Connection, body: Body) -> Outgoing:
    database.execute(
        "INSERT OR IGNORE INTO payments VALUES (?, ?, ?)",
        (body["order_id"], body["payment_method"], time.time()),
    )
    return [("floor.payments.events.PaymentCharged", {"order_id": body["order_id"]})]


async def main(url: str, folder: Path) -> None:
    _, jetstream = await connect(url, "floor-payments")
    database = open_database(folder / "payments.db", SCHEMA)
    charging = await subscribe(jetstream, "floor.payments.commands.ChargePayment", "charge")
    mark_ready(folder, "payments")
    await consume(charging, jetstream, database, charge)


if __name__ == "__main__":
    uvloop.run(main(sys.argv[1], Path(sys.argv[2])))
