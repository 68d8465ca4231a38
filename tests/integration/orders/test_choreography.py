"""The choreographed saga over a real broker: orders, inventory and payments reacting to each
other's events, each with its own database, bus, inbox and outbox relay. Every test runs on
NATS JetStream and on RabbitMQ (the e2e suite runs choreography on NATS only).

No orchestrator runs: orders only publishes ``OrderPlaced`` (and a cancellation request)
and settles the order from the events it sees. Catalog's prices and payments' accepted
methods, asked over gRPC in the services, are plain in-memory answers here.
"""

import asyncio
import contextlib
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path

import nats
import pytest
from nats.js import JetStreamContext

from shoplab.contracts.envelope import Envelope
from shoplab.inventory.adapters import tables as inventory_tables
from shoplab.inventory.bootstrap import InventoryContext
from shoplab.inventory.domain.model import StockItem
from shoplab.inventory.service_layer import services as inventory
from shoplab.orders.bootstrap import OrdersContext
from shoplab.orders.domain.model import Order, OrderStatus
from shoplab.orders.entrypoints.saga_api import choreographed
from shoplab.orders.service_layer import services as orders
from shoplab.orders.service_layer.choreography import SettleByChoreography
from shoplab.orders.service_layer.commands import PlaceOrder
from shoplab.orders.service_layer.ports import Collaborators, Price
from shoplab.orders.service_layer.unit_of_work import OrdersUnitOfWork
from shoplab.payments.adapters import tables as payment_tables
from shoplab.payments.bootstrap import PaymentsContext
from shoplab.payments.domain.model import Payment
from shoplab.payments.service_layer import services as payments
from shoplab.platform.auth import Principal
from shoplab.platform.messaging.bus import Bus
from shoplab.platform.messaging.jetstream.bus import NatsBus
from shoplab.platform.messaging.rabbitmq.bus import RabbitBus
from shoplab.platform.messaging.rabbitmq.topology import RabbitTopology, delete_namespace
from shoplab.platform.messaging.relay import OutboxRelay
from shoplab.platform.messaging.streams import Topology
from shoplab.platform.persistence.database import Database

from ..databases import backends, count_rows, fresh_database, skip_without_postgres
from ..nats_server import nats_url
from ..rabbitmq import rabbitmq_url

__all__ = ["nats_url", "rabbitmq_url"]

SKU = "SKU-1"
PRICE = Price(unit_price_cents=500, currency="USD")
SETTLE_SECONDS = 15.0
CUSTOMER = Principal(customer_id="c1", role="customer")


class FixedPrices:
    async def prices(self, skus: list[str]) -> dict[str, Price]:
        return {sku: PRICE for sku in skus if sku == SKU}


class TestCards:
    __test__ = False

    async def accepts(self, method: str) -> bool:
        return method.startswith("pm_card_")


@dataclass
class Shop:
    orders: OrdersContext
    inventory: InventoryContext
    payments: PaymentsContext
    topology: Topology

    async def place(self, quantity: int, method: str) -> Order:
        command = PlaceOrder(CUSTOMER.customer_id, {SKU: quantity}, method)
        return await orders.place_order(self.orders.uow(), self.orders.connect, command)

    async def settled(self, order_id: str, *statuses: OrderStatus) -> Order:
        async def status() -> Order:
            return await orders.get_order(self.orders.uow(), order_id, CUSTOMER)

        await eventually(
            lambda: _is(status(), lambda order: order.status in statuses), f"{statuses}"
        )
        return await status()

    async def stock(self) -> tuple[int, int]:
        item = await inventory.stock_level(self.inventory.uow(), SKU)
        return item.on_hand, item.reserved

    async def payment(self, order_id: str) -> Payment:
        return await payments.payment_for(self.payments.uow(), order_id)

    async def steps(self, order_id: str) -> list[tuple[str, str]]:
        view = await choreographed(self.orders.uow(), order_id)
        return [(step.name, step.status) for step in view.steps]


async def eventually(check: Callable[[], Awaitable[bool]], what: str) -> None:
    deadline = asyncio.get_running_loop().time() + SETTLE_SECONDS
    while not await check():
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"not within {SETTLE_SECONDS} s: {what}")
        await asyncio.sleep(0.05)


async def _is(value: Awaitable[Order], test: Callable[[Order], bool]) -> bool:
    return test(await value)


@pytest.fixture(params=backends())
async def database_urls(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[list[str]]:
    """A fresh database for each of orders, inventory and payments."""
    if request.param == "postgres":
        skip_without_postgres()
    async with contextlib.AsyncExitStack() as stack:
        urls = []
        for name in ("orders", "inventory", "payments"):
            (tmp_path / name).mkdir()
            urls.append(
                await stack.enter_async_context(fresh_database(request.param, tmp_path / name))
            )
        yield urls


@dataclass(frozen=True)
class Broker:
    url: str
    bus: Callable[..., Bus]
    cleanup: Callable[[Topology], Awaitable[object]]


@pytest.fixture(params=["nats", "rabbitmq"])
def broker(request: pytest.FixtureRequest) -> Broker:
    """The throwaway NATS server, or the machine's RabbitMQ; each leaves nothing behind."""
    if request.param == "nats":
        url = request.getfixturevalue("nats_url")
        return Broker(url, NatsBus, lambda topology: _delete_streams(url, topology))
    url = request.getfixturevalue("rabbitmq_url")
    return Broker(url, RabbitBus, lambda topology: delete_namespace(url, RabbitTopology(topology)))


@pytest.fixture
async def shop(broker: Broker, database_urls: list[str]) -> AsyncIterator[Shop]:
    """Three contexts, each with its own database, bus and relay, in a namespace of its own."""
    topology = Topology(namespace=f"c{uuid.uuid4().hex[:12]}")
    databases = [Database(url) for url in database_urls]
    collaborators = Collaborators(FixedPrices(), TestCards(), SettleByChoreography())

    def connect(_uow: OrdersUnitOfWork) -> Collaborators:
        return collaborators

    orders_context = OrdersContext(databases[0], connect)
    inventory_context = InventoryContext(databases[1])
    payments_context = PaymentsContext(databases[2])
    for context in (orders_context, inventory_context, payments_context):
        await context.migrate()
    async with inventory_context.uow() as uow:
        await uow.stock.add(StockItem(SKU, 10))
        await uow.commit()
    parts = [
        (databases[0], orders_context.outbox, orders_context.choreography_subscriptions()),
        (databases[1], inventory_tables.outbox, inventory_context.choreography_subscriptions()),
        (databases[2], payment_tables.outbox, payments_context.choreography_subscriptions()),
    ]
    buses: list[Bus] = []
    relays: list[asyncio.Task[None]] = []
    for index, (database, outbox, subscriptions) in enumerate(parts):
        bus = broker.bus(broker.url, service=f"choreography-{index}", topology=topology)
        bus.subscribe(subscriptions)
        await bus.start()
        buses.append(bus)
        relay = OutboxRelay(database, [outbox], bus, poll_seconds=0.1)
        relays.append(asyncio.create_task(relay.run()))
    try:
        yield Shop(orders_context, inventory_context, payments_context, topology)
    finally:
        for task in relays:
            task.cancel()
        await asyncio.gather(*relays, return_exceptions=True)
        for bus in buses:
            await bus.stop()
        for database in databases:
            await database.dispose()
        await broker.cleanup(topology)


async def _delete_streams(url: str, topology: Topology) -> None:
    """Each stream reserves its size limit on the shared test server: give it back."""
    connection = await nats.connect(url)
    try:
        for spec in topology.streams():
            await connection.jetstream().delete_stream(spec.name)
    finally:
        await connection.close()


@pytest.fixture
async def jetstream(nats_url: str) -> AsyncIterator[JetStreamContext]:
    connection = await nats.connect(nats_url)
    yield connection.jetstream()
    await connection.close()


async def test_an_order_is_approved_then_cancelled_with_no_orchestrator(shop: Shop) -> None:
    placed = await shop.place(3, "pm_card_visa")
    assert placed.status is OrderStatus.PENDING

    approved = await shop.settled(placed.order_id, OrderStatus.APPROVED)
    assert approved.reason is None
    assert await shop.stock() == (7, 0)
    payment = await shop.payment(placed.order_id)
    assert (payment.charged_cents, payment.refunded_cents) == (1500, 0)
    assert await shop.steps(placed.order_id) == [
        ("ORDER_PLACED", "PUBLISHED"),
        ("RESERVE_STOCK", "SUCCEEDED"),
        ("CHARGE_PAYMENT", "SUCCEEDED"),
        ("COMMIT_STOCK", "SUCCEEDED"),
        ("APPROVED", "COMPLETED"),
    ]

    accepted = await orders.cancel_order(
        shop.orders.uow(), shop.orders.connect, placed.order_id, CUSTOMER
    )
    assert accepted.status is OrderStatus.APPROVED, "stays APPROVED until the stock is back"
    cancelled = await shop.settled(placed.order_id, OrderStatus.CANCELLED)
    assert cancelled.reason == "CANCELLED_BY_CUSTOMER"
    assert await shop.stock() == (10, 0)
    payment = await shop.payment(placed.order_id)
    assert (payment.charged_cents, payment.refunded_cents) == (1500, 1500)
    assert (await shop.steps(placed.order_id))[-4:] == [
        ("CANCELLATION_REQUESTED", "PUBLISHED"),
        ("REFUND_PAYMENT", "SUCCEEDED"),
        ("RETURN_STOCK", "SUCCEEDED"),
        ("CANCELLED", "COMPLETED"),
    ]


@pytest.mark.parametrize(
    ("card", "reason"),
    [
        ("pm_card_chargeDeclined", "PAYMENT_DECLINED"),
        ("pm_card_chargeDeclinedInsufficientFunds", "INSUFFICIENT_FUNDS"),
    ],
)
async def test_a_failed_payment_releases_the_stock_then_rejects_with_its_reason(
    shop: Shop, card: str, reason: str
) -> None:
    placed = await shop.place(4, card)
    rejected = await shop.settled(placed.order_id, OrderStatus.REJECTED)
    assert rejected.reason == reason
    assert await shop.stock() == (10, 0), "the compensation freed the stock"
    assert (await shop.payment(placed.order_id)).net_cents == 0
    steps = await shop.steps(placed.order_id)
    assert ("CHARGE_PAYMENT", "FAILED") in steps
    assert steps[-2:] == [("RELEASE_STOCK", "SUCCEEDED"), ("REJECTED", "COMPLETED")]


async def test_a_short_stock_rejects_and_payments_charges_nothing(shop: Shop) -> None:
    placed = await shop.place(11, "pm_card_visa")
    rejected = await shop.settled(placed.order_id, OrderStatus.REJECTED)
    assert rejected.reason == "OUT_OF_STOCK"
    assert await shop.stock() == (10, 0)
    async with shop.payments.uow().read_only() as uow:
        assert await uow.payments.get(placed.order_id) is None


@pytest.mark.parametrize("broker", ["nats"], indirect=True)  # it reads and writes the streams
async def test_every_event_delivered_twice_changes_nothing(
    shop: Shop, jetstream: JetStreamContext
) -> None:
    """Each event of a finished placement is delivered again, as after a lost ack (same
    message id) and as a participant that emitted it twice (a new message id)."""
    placed = await shop.place(2, "pm_card_visa")
    await shop.settled(placed.order_id, OrderStatus.APPROVED)
    placement = {
        "OrderPlaced",
        "StockReserved",
        "PaymentCharged",
        "StockCommitted",
        "OrderApproved",
    }

    async def all_published() -> bool:  # the last event leaves the outbox after the commit
        return {e.type for e in await _stored_envelopes(jetstream, shop.topology)} >= placement

    await eventually(all_published, f"every event of the placement stored: {placement}")
    envelopes = await _stored_envelopes(jetstream, shop.topology)
    for envelope in envelopes:
        again = envelope.model_copy(update={"message_id": str(uuid.uuid4())})
        for copy in (envelope, again):
            await jetstream.publish(
                shop.topology.wire(copy.subject),
                copy.model_dump_json().encode(),
                stream=shop.topology.stream_for(copy.subject),
                headers={"Nats-Msg-Id": str(uuid.uuid4())},
            )
    await eventually(lambda: _all_consumed(jetstream, shop.topology), "the copies consumed")
    await asyncio.sleep(0.5)  # anything they wrongly caused has time to show

    assert await shop.stock() == (8, 0)
    payment = await shop.payment(placed.order_id)
    assert (payment.charged_cents, payment.refunded_cents) == (1000, 0)
    assert await _charges_announced(shop) == 1
    order = await orders.get_order(shop.orders.uow(), placed.order_id, CUSTOMER)
    assert order.status is OrderStatus.APPROVED
    steps = await shop.steps(placed.order_id)
    assert len(steps) == len(set(steps)) == 5, steps


async def _stored_envelopes(jetstream: JetStreamContext, topology: Topology) -> list[Envelope]:
    envelopes = []
    for context in ("orders", "inventory", "payments"):
        stream = topology.stream_name(f"SHOPLAB_{context.upper()}")
        info = await jetstream.stream_info(stream)
        for sequence in range(info.state.first_seq, info.state.last_seq + 1):
            stored = await jetstream.get_msg(stream, sequence)
            envelopes.append(Envelope.model_validate_json(stored.data or b""))
    return envelopes


async def _all_consumed(jetstream: JetStreamContext, topology: Topology) -> bool:
    for context in ("orders", "inventory", "payments"):
        stream = topology.stream_name(f"SHOPLAB_{context.upper()}")
        for consumer in await jetstream.consumers_info(stream):
            if consumer.num_pending or consumer.num_ack_pending:
                return False
    return True


async def _charges_announced(shop: Shop) -> int:
    outbox = payment_tables.outbox
    return await count_rows(shop.payments.database, outbox.name, "subject LIKE '%Charged'")
