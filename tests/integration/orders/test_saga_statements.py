"""What one saga step costs the orders database, counted statement by statement.

Orders' real consumers run on a real database whose statements are recorded through the
SQL seam, and are handed the participants' answers as a broker would. A step that settles
nothing reads and writes the saga row (plus the inbox and outbox rows), never the lines.
"""

import json
import re
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from alembic import command
from sqlalchemy import Connection

from shoplab.contracts import events
from shoplab.contracts.envelope import Envelope, Message
from shoplab.orders.adapters.tables import MIGRATIONS
from shoplab.orders.bootstrap import OrdersContext
from shoplab.orders.domain.model import OrderStatus
from shoplab.orders.domain.orchestration import Timeouts
from shoplab.orders.service_layer import services as orders
from shoplab.orders.service_layer.choreography import SettleByChoreography
from shoplab.orders.service_layer.commands import PlaceOrder
from shoplab.orders.service_layer.orchestration import SettleByOrchestration
from shoplab.orders.service_layer.ports import Collaborators, Price, Settlement
from shoplab.platform.messaging.consumers import Subscription
from shoplab.platform.persistence.database import Database, Transaction
from shoplab.platform.persistence.sql import Sql, TracedSql, from_json

SKU = "SKU-1"
TIMEOUTS = Timeouts(step=timedelta(seconds=5), attempts=6)
BEFORE_TERMS = "89fc07cfc203"
"""The orders revision before sagas kept their terms."""
TABLE = re.compile(r"(?:FROM|INTO|UPDATE) (\w+)")


class Recorded(TracedSql):
    """The seam's tracing, keeping each statement's text where it would open a span."""

    def __init__(self, inner: Sql, statements: list[str]) -> None:
        super().__init__(inner, "recorded")
        self._statements = statements

    @contextmanager
    def _span(self, statement: str) -> Iterator[None]:
        self._statements.append(statement)
        yield


class RecordingDatabase(Database):
    """A database that records the statements of every transaction it begins."""

    def __init__(self, url: str) -> None:
        super().__init__(url)
        self.statements: list[str] = []

    async def begin(self, *, read_only: bool = False) -> Transaction:
        transaction = await super().begin(read_only=read_only)
        transaction.sql = Recorded(transaction.sql, self.statements)
        return transaction


class FixedPrices:
    async def prices(self, skus: list[str]) -> dict[str, Price]:
        return {sku: Price(unit_price_cents=500, currency="USD") for sku in skus}


class AnyCard:
    async def accepts(self, method: str) -> bool:
        return True


class Shop:
    def __init__(self, database: RecordingDatabase, settlement: Settlement) -> None:
        self.database = database
        self.context = OrdersContext(
            database, lambda _uow: Collaborators(FixedPrices(), AnyCard(), settlement)
        )
        self.consumers: dict[str, Subscription] = {}

    async def place(self) -> str:
        command = PlaceOrder("c1", {SKU: 3, "SKU-2": 1}, "pm_card_visa")
        order = await orders.place_order(self.context.uow(), self.context.connect, command)
        return order.order_id

    async def answer(self, answer: Message) -> list[str]:
        """Hand ``answer`` to its consumer as the broker would; the statements it ran."""
        envelope = Envelope.wrap(answer, correlation_id=getattr(answer, "order_id", None))
        self.database.statements.clear()
        await self.consumers[envelope.subject].handle(envelope)
        return list(self.database.statements)

    async def run(self, statement: str, **params: Any) -> list[Any]:
        async with self.database.transaction() as sql:
            return await sql.all(statement, params)

    async def change(self, statement: str, **params: Any) -> None:
        async with self.database.transaction() as sql:
            await sql.execute(statement, params)

    async def sent(self, name: str) -> list[dict[str, Any]]:
        """The payloads of the commands or events of type ``name`` in the outbox."""
        rows = await self.run("SELECT envelope FROM orders_outbox ORDER BY position")
        envelopes = [json.loads(row.envelope) for row in rows]
        return [e["payload"] for e in envelopes if e["type"] == name]

    async def terms(self, order_id: str) -> tuple[Any, ...]:
        rows = await self.run(
            "SELECT quantities, amount_cents, currency FROM orders_sagas"
            " WHERE order_id = :order_id",
            order_id=order_id,
        )
        quantities, amount_cents, currency = rows[0]
        return from_json(quantities) if quantities else None, amount_cents, currency

    async def status(self, order_id: str) -> OrderStatus:
        rows = await self.run(
            "SELECT status FROM orders_orders WHERE order_id = :order_id", order_id=order_id
        )
        return OrderStatus(rows[0].status)


async def migrate(database: Database, revision: str) -> None:
    """Bring the orders tables to ``revision``, up or down."""

    def to_revision(connection: Connection) -> None:
        config = MIGRATIONS.config(connection)
        if revision == "head":
            command.upgrade(config, revision)
        else:
            command.downgrade(config, revision)

    await database.run_sync(to_revision)


@pytest.fixture
async def database(database_url: str) -> AsyncIterator[RecordingDatabase]:
    db = RecordingDatabase(database_url)
    try:
        yield db
    finally:
        await db.dispose()


@pytest.fixture
async def orchestrated(database: RecordingDatabase) -> Shop:
    shop = Shop(database, SettleByOrchestration(TIMEOUTS))
    await shop.context.migrate()
    shop.consumers = {c.subject: c for c in shop.context.orchestration_subscriptions(TIMEOUTS)}
    return shop


@pytest.fixture
async def choreographed(database: RecordingDatabase) -> Shop:
    shop = Shop(database, SettleByChoreography())
    await shop.context.migrate()
    shop.consumers = {c.subject: c for c in shop.context.choreography_subscriptions()}
    return shop


def touched(statements: list[str]) -> list[str]:
    """Each statement as its verb and its table: ``SELECT orders_sagas``."""
    return [f"{s.split()[0]} {TABLE.findall(s)[0]}" for s in statements]


async def test_an_answer_that_settles_nothing_touches_the_saga_row_alone(
    orchestrated: Shop,
) -> None:
    order_id = await orchestrated.place()

    statements = await orchestrated.answer(events.StockReserved(order_id=order_id))

    assert touched(statements) == [
        "INSERT orders_inbox",
        "SELECT orders_orders",  # the lock, before the saga's, as a cancellation takes them
        "SELECT orders_sagas",
        "INSERT orders_outbox",
        "UPDATE orders_sagas",
    ]
    assert statements[1].startswith("SELECT status FROM orders_orders")
    [charge] = await orchestrated.sent("ChargePayment")
    assert (charge["amount_cents"], charge["currency"]) == (2_000, "USD")


async def test_an_answer_that_settles_the_order_reads_it_once(orchestrated: Shop) -> None:
    order_id = await orchestrated.place()
    await orchestrated.answer(events.StockReserved(order_id=order_id))
    await orchestrated.answer(events.PaymentCharged(order_id=order_id, amount_cents=2_000))

    statements = await orchestrated.answer(events.StockCommitted(order_id=order_id))

    assert touched(statements).count("SELECT orders_lines") == 1
    assert await orchestrated.status(order_id) is OrderStatus.APPROVED


async def test_a_saga_running_across_the_upgrade_reads_its_terms_from_the_order_once(
    orchestrated: Shop,
) -> None:
    order_id = await orchestrated.place()
    await migrate(orchestrated.database, BEFORE_TERMS)  # the columns go, and come back NULL
    await migrate(orchestrated.database, "head")
    assert await orchestrated.terms(order_id) == (None, None, None)

    charging = await orchestrated.answer(events.StockReserved(order_id=order_id))
    paid = await orchestrated.answer(events.PaymentCharged(order_id=order_id, amount_cents=2_000))

    [charge] = await orchestrated.sent("ChargePayment")
    assert (charge["amount_cents"], charge["currency"]) == (2_000, "USD")
    assert touched(charging).count("SELECT orders_lines") == 1
    assert await orchestrated.terms(order_id) == ({SKU: 3, "SKU-2": 1}, 2_000, "USD")
    assert "SELECT orders_lines" not in touched(paid)


async def test_a_late_reservation_without_terms_is_sent_again_with_its_lines(
    orchestrated: Shop,
) -> None:
    order_id = await orchestrated.place()
    await orchestrated.change(
        "UPDATE orders_sagas SET quantities = NULL, amount_cents = NULL, currency = NULL,"
        " deadline_at = :past WHERE order_id = :order_id",
        past=datetime.now(UTC) - timedelta(minutes=1),
        order_id=order_id,
    )

    assert await orchestrated.context.expire_overdue_steps(TIMEOUTS) == 1

    first, again = await orchestrated.sent("ReserveStock")
    assert first["lines"] == again["lines"] == {SKU: 3, "SKU-2": 1}


async def test_a_fact_that_settles_nothing_reads_no_lines(choreographed: Shop) -> None:
    order_id = await choreographed.place()

    statements = await choreographed.answer(events.StockReserved(order_id=order_id))

    assert touched(statements) == [
        "INSERT orders_inbox",
        "SELECT orders_orders",
        "SELECT orders_choreographies",
        "UPDATE orders_choreographies",
    ]
