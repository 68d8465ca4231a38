"""The floor's orders: ``POST /orders`` on bare Starlette, and the saga's steps as consumers.

The placement inserts the order and publishes ``ReserveStock`` before answering ``202``;
each reply moves the order on: ``StockReserved`` → ``ChargePayment``, ``PaymentCharged`` →
``APPROVED`` with ``CommitStock`` and ``OrderApproved``.
"""

import asyncio
import contextlib
import sqlite3
import sys
import time
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import orjson
import uvicorn
from nats.js import JetStreamContext
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from shoplab.bench.floor.common import (
    Body,
    Outgoing,
    connect,
    consume,
    mark_ready,
    open_database,
    publish,
    subscribe,
)

SCHEMA = """
CREATE TABLE IF NOT EXISTS orders (
    order_id TEXT PRIMARY KEY, body BLOB NOT NULL, status TEXT NOT NULL, updated_at REAL NOT NULL
);
"""


class Orders:
    """The process's state: its database and its JetStream context, opened at start."""

    def __init__(self, url: str, folder: Path) -> None:
        self.url, self.folder = url, folder
        self.database: sqlite3.Connection
        self.jetstream: JetStreamContext

    async def place(self, request: Request) -> Response:
        body = await request.body()
        order = orjson.loads(body)
        order_id = str(uuid.uuid4())
        self.database.execute(
            "INSERT INTO orders VALUES (?, ?, 'PENDING', ?)", (order_id, body, time.time())
        )
        command = {"order_id": order_id, "items": order["items"]}
        await publish(self.jetstream, [("floor.inventory.commands.ReserveStock", command)])
        answer = orjson.dumps({"order_id": order_id, "status": "PENDING"})
        return Response(answer, status_code=202, media_type="application/json")

    def reserved(self, database: sqlite3.Connection, body: Body) -> Outgoing:
        order_id = body["order_id"]
        (stored,) = database.execute(
            "SELECT body FROM orders WHERE order_id = ?", (order_id,)
        ).fetchone()
        database.execute(
            "UPDATE orders SET status = 'CHARGING', updated_at = ? WHERE order_id = ?",
            (time.time(), order_id),
        )
        method = orjson.loads(stored)["payment_method"]
        return [
            (
                "floor.payments.commands.ChargePayment",
                {"order_id": order_id, "payment_method": method},
            )
        ]

    def charged(self, database: sqlite3.Connection, body: Body) -> Outgoing:
        now = time.time()
        database.execute(
            "UPDATE orders SET status = 'APPROVED', updated_at = ? WHERE order_id = ?",
            (now, body["order_id"]),
        )
        return [
            ("floor.inventory.commands.CommitStock", {"order_id": body["order_id"]}),
            (
                "floor.orders.events.OrderApproved",
                {"order_id": body["order_id"], "updated_at": now},
            ),
        ]

    @contextlib.asynccontextmanager
    async def lifespan(self, app: Starlette) -> AsyncIterator[None]:
        connection, self.jetstream = await connect(self.url, "floor-orders")
        self.database = open_database(self.folder / "orders.db", SCHEMA)
        reserved = await subscribe(
            self.jetstream, "floor.inventory.events.StockReserved", "saga-reserved"
        )
        charged = await subscribe(
            self.jetstream, "floor.payments.events.PaymentCharged", "saga-charged"
        )
        steps = asyncio.gather(
            consume(reserved, self.jetstream, self.database, self.reserved),
            consume(charged, self.jetstream, self.database, self.charged),
        )
        mark_ready(self.folder, "orders")
        try:
            yield
        finally:
            steps.cancel()
            await connection.close()


def main(url: str, folder: Path, port: int) -> None:
    orders = Orders(url, folder)
    app = Starlette(
        routes=[Route("/orders", orders.place, methods=["POST"])], lifespan=orders.lifespan
    )
    uvicorn.run(
        app,
        host="127.0.0.1",
        port=port,
        loop="uvloop",
        http="httptools",
        log_level="warning",
        access_log=False,
    )


if __name__ == "__main__":
    main(sys.argv[1], Path(sys.argv[2]), int(sys.argv[3]))
