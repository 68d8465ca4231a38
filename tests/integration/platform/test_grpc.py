"""The gRPC contracts end to end: real grpc.aio servers on loopback, real databases.

Each servicer answers through the client adapter its caller will use, and the
server refuses a call without service credentials (UNAUTHENTICATED) or from a
service not on the called service's allow-list (PERMISSION_DENIED).
"""

import asyncio
import socket
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime
from typing import Any

import grpc
import grpc.aio
import pytest

from shoplab.catalog.adapters.remote import GrpcStockAvailability
from shoplab.catalog.bootstrap import CatalogContext
from shoplab.catalog.domain.model import Product
from shoplab.catalog.entrypoints.grpc_api import SERVICE as CATALOG
from shoplab.catalog.service_layer import services as catalog
from shoplab.contracts.contexts import context_named
from shoplab.contracts.grpc.catalog.v1.catalog_pb2 import GetPricesRequest
from shoplab.contracts.grpc.catalog.v1.catalog_pb2_grpc import CatalogStub
from shoplab.contracts.grpc.notifications.v1 import notifications_pb2
from shoplab.contracts.grpc.notifications.v1.notifications_pb2_grpc import NotificationsStub
from shoplab.contracts.grpc.payments.v1 import payments_pb2
from shoplab.contracts.grpc.payments.v1.payments_pb2_grpc import PaymentsStub
from shoplab.inventory.bootstrap import InventoryContext
from shoplab.inventory.domain.model import StockItem
from shoplab.inventory.entrypoints.grpc_api import SERVICE as INVENTORY
from shoplab.inventory.service_layer import services as inventory
from shoplab.notifications.bootstrap import NotificationsContext
from shoplab.notifications.domain.model import Notification, NotificationKind
from shoplab.notifications.entrypoints.grpc_api import SERVICE as NOTIFICATIONS
from shoplab.orders.adapters.remote import GrpcPaymentMethods, GrpcPriceList
from shoplab.orders.service_layer.ports import Price
from shoplab.payments.adapters.card_processor import TestCardProcessor
from shoplab.payments.bootstrap import PaymentsContext
from shoplab.payments.entrypoints.grpc_api import SERVICE as PAYMENTS
from shoplab.payments.service_layer import services as payments
from shoplab.platform.auth import CUSTOMER, Principal
from shoplab.platform.discovery import Balancer, Instance
from shoplab.platform.discovery.static import StaticResolver
from shoplab.platform.errors import Unavailable
from shoplab.platform.grpc.auth import bearer_metadata
from shoplab.platform.grpc.client import GrpcClient, loopback, open_channel
from shoplab.platform.grpc.server import GrpcService, build_server
from shoplab.platform.internal_auth import ServiceCredentials
from shoplab.platform.persistence.database import Database
from shoplab.platform.resilience import Resilience

SECRET = b"s" * 32
CALLERS = {
    service: context_named(context).grpc_callers
    for context, service in (
        ("catalog", CATALOG),
        ("inventory", INVENTORY),
        ("payments", PAYMENTS),
        ("notifications", NOTIFICATIONS),
    )
}
"""The allow-list of the system (``contracts/contexts.py``)."""
SENT_AT = datetime(2030, 1, 2, 3, 4, 5, 678_000, tzinfo=UTC)

Client = Callable[[str, str], GrpcClient]
"""``client(callee, caller)``: a client of the ``callee`` service with ``caller``'s credentials."""


def as_service(name: str) -> ServiceCredentials:
    return ServiceCredentials(SECRET, issuer=name)


# The four contexts share one database, as in the monolith: each has its own tables.


@pytest.fixture
async def shop(database: Database) -> CatalogContext:
    context = CatalogContext(database)
    await context.migrate()
    await catalog.seed(context.uow(), [Product("SKU-1", "Mug", "A mug", 1500, "USD")])
    return context


@pytest.fixture
async def stock(database: Database) -> InventoryContext:
    context = InventoryContext(database)
    await context.migrate()
    async with context.uow() as uow:
        await uow.stock.add(StockItem("SKU-1", 10))
        await uow.commit()
    assert await inventory.reserve(context.uow(), "o1", {"SKU-1": 3})
    return context


@pytest.fixture
async def money(database: Database) -> PaymentsContext:
    context = PaymentsContext(database)
    await context.migrate()
    await payments.charge(context.uow(), TestCardProcessor(), "o1", 1500, "USD", "pm_card_visa")
    await payments.refund(context.uow(), "o1")
    return context


@pytest.fixture
async def mail(database: Database) -> NotificationsContext:
    context = NotificationsContext(database)
    await context.migrate()
    async with context.uow() as uow:
        sent = Notification(NotificationKind.ORDER_CANCELLED, "o1", "ada@example.com", SENT_AT)
        await uow.notifications.add(sent)
        await uow.commit()
    return context


@pytest.fixture
async def port(
    shop: CatalogContext,
    stock: InventoryContext,
    money: PaymentsContext,
    mail: NotificationsContext,
) -> AsyncIterator[int]:
    """One server for the four services, on a port the system chooses."""
    services = [
        shop.grpc_service(),
        stock.grpc_service(),
        money.grpc_service(),
        mail.grpc_service(),
    ]
    server = build_server(services, CALLERS, as_service("server"))
    await server.start()
    try:
        yield server.port
    finally:
        await server.stop(None)


def grpc_client(callee: str, port: int, caller: str) -> GrpcClient:
    """A client of the one instance listening on ``port``, under the default policy."""
    instance = Instance(service=callee, id="1", host="127.0.0.1", ports={"grpc": port})
    balancer = Balancer(StaticResolver([instance]))
    policy = Resilience(caller).policy(callee)
    return GrpcClient(callee, lambda: balancer, as_service(caller), policy)


@pytest.fixture
async def client(port: int) -> AsyncIterator[Client]:
    opened: list[GrpcClient] = []

    def open_client(callee: str, caller: str) -> GrpcClient:
        opened.append(grpc_client(callee, port, caller))
        return opened[-1]

    yield open_client
    for each in opened:
        await each.close()


async def test_orders_gets_prices_from_catalog_and_unknown_skus_are_absent(client: Client) -> None:
    prices = GrpcPriceList(client("catalog", "orders"))
    assert await prices.prices(["SKU-1", "SKU-404"]) == {"SKU-1": Price(1500, "USD")}


class CountingClient(GrpcClient):
    """A real client that counts the calls it makes."""

    calls = 0

    async def call(self, *args: Any, **kwargs: Any) -> Any:
        self.calls += 1
        return await super().call(*args, **kwargs)


async def test_placements_asking_at_once_share_the_price_calls(port: int) -> None:
    """While one question is on its way, the others wait and go together in the next one."""
    instance = Instance(service="catalog", id="1", host="127.0.0.1", ports={"grpc": port})
    balancer = Balancer(StaticResolver([instance]))
    catalog = CountingClient(
        "catalog", lambda: balancer, as_service("orders"), Resilience("orders").policy("catalog")
    )
    try:
        prices = GrpcPriceList(catalog)
        asked = [["SKU-1"], ["SKU-404"], ["SKU-1", "SKU-404"]] * 20
        answers = await asyncio.gather(*(prices.prices(skus) for skus in asked))
        assert answers[::3] == [{"SKU-1": Price(1500, "USD")}] * 20
        assert answers[1::3] == [{}] * 20
        assert answers[2::3] == [{"SKU-1": Price(1500, "USD")}] * 20
        assert catalog.calls <= 2, f"{len(asked)} placements made {catalog.calls} calls"
        assert await prices.prices(["SKU-1"]) == {"SKU-1": Price(1500, "USD")}
        assert catalog.calls <= 3
    finally:
        await catalog.close()


async def test_catalog_gets_availability_from_inventory(client: Client) -> None:
    stock = GrpcStockAvailability(client("inventory", "catalog"))
    assert await stock.available("SKU-1") == 7, "10 on hand, 3 reserved"
    assert await stock.available("SKU-404") == 0


async def test_orders_asks_payments_which_methods_are_accepted(client: Client) -> None:
    methods = GrpcPaymentMethods(client("payments", "orders"))
    assert await methods.accepts("pm_card_visa") is True
    assert await methods.accepts("pm_card_bogus") is False


async def test_the_gateway_reads_an_orders_payment(client: Client) -> None:
    gateway = client("payments", "gateway")

    def get_payment(channel: grpc.aio.Channel) -> Any:
        return PaymentsStub(channel).GetPayment

    payment = await gateway.call(get_payment, payments_pb2.GetPaymentRequest(order_id="o1"))
    assert (payment.found, payment.charged_cents, payment.refunded_cents, payment.status) == (
        True,
        1500,
        1500,
        payments_pb2.PAYMENT_STATUS_REFUNDED,
    )
    none = await gateway.call(get_payment, payments_pb2.GetPaymentRequest(order_id="o2"))
    assert none.found is False


async def test_the_gateway_reads_an_orders_notifications(client: Client) -> None:
    gateway = client("notifications", "gateway")

    def list_for_order(channel: grpc.aio.Channel) -> Any:
        return NotificationsStub(channel).ListForOrder

    answer = await gateway.call(
        list_for_order, notifications_pb2.ListForOrderRequest(order_id="o1")
    )
    [item] = answer.items
    assert (item.kind, item.order_id, item.recipient) == (
        notifications_pb2.NOTIFICATION_KIND_ORDER_CANCELLED,
        "o1",
        "ada@example.com",
    )
    assert item.sent_at.ToDatetime(tzinfo=UTC) == SENT_AT
    empty = await gateway.call(list_for_order, notifications_pb2.ListForOrderRequest(order_id="o2"))
    assert list(empty.items) == []


# Refusals, through a bare channel that sends whatever metadata the test chooses.


async def get_prices(port: int, metadata: tuple[tuple[str, str], ...]) -> grpc.StatusCode:
    async with grpc.aio.insecure_channel(loopback(port)) as channel:
        try:
            await CatalogStub(channel).GetPrices(
                GetPricesRequest(skus=["SKU-1"]), metadata=metadata, timeout=5
            )
        except grpc.aio.AioRpcError as error:
            return error.code()
    return grpc.StatusCode.OK


async def test_an_allowed_service_is_served(port: int) -> None:
    token = as_service("orders").mint()
    assert await get_prices(port, (bearer_metadata(token),)) is grpc.StatusCode.OK


async def test_a_call_without_a_token_is_unauthenticated(port: int) -> None:
    assert await get_prices(port, ()) is grpc.StatusCode.UNAUTHENTICATED


async def test_a_customers_token_is_no_service_credential(port: int) -> None:
    token = as_service("gateway").mint(Principal(customer_id="orders", role=CUSTOMER))
    assert await get_prices(port, (bearer_metadata(token),)) is grpc.StatusCode.UNAUTHENTICATED


async def test_a_token_signed_with_another_secret_is_unauthenticated(port: int) -> None:
    token = ServiceCredentials(b"x" * 32, issuer="orders").mint()
    assert await get_prices(port, (bearer_metadata(token),)) is grpc.StatusCode.UNAUTHENTICATED


async def test_a_service_not_on_the_allow_list_is_denied(port: int) -> None:
    token = as_service("catalog").mint()
    assert await get_prices(port, (bearer_metadata(token),)) is grpc.StatusCode.PERMISSION_DENIED


async def test_an_unknown_method_is_not_revealed_to_an_unauthenticated_caller(port: int) -> None:
    async with grpc.aio.insecure_channel(loopback(port)) as channel:
        probe: grpc.aio.UnaryUnaryMultiCallable[bytes, bytes] = channel.unary_unary(
            "/shoplab.catalog.v1.Catalog/DropTables"
        )
        with pytest.raises(grpc.aio.AioRpcError) as refused:
            await probe(b"", timeout=5)
    assert refused.value.code() is grpc.StatusCode.UNAUTHENTICATED


async def test_a_refused_call_is_unavailable_to_the_adapter(client: Client) -> None:
    prices = GrpcPriceList(client("catalog", "inventory"))
    with pytest.raises(Unavailable) as refused:
        await prices.prices(["SKU-1"])
    assert isinstance(refused.value.__cause__, grpc.aio.AioRpcError)
    assert refused.value.__cause__.code() is grpc.StatusCode.PERMISSION_DENIED


async def test_a_service_that_is_down_is_unavailable() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed = probe.getsockname()[1]
    catalog_client = grpc_client("catalog", closed, "orders")
    try:
        with pytest.raises(Unavailable):
            await GrpcPriceList(catalog_client).prices(["SKU-1"])
    finally:
        await catalog_client.close()


async def test_too_many_skus_are_refused(port: int) -> None:
    async with open_channel(loopback(port), as_service("orders")) as channel:
        get = CatalogStub(channel).GetPrices
        with pytest.raises(grpc.aio.AioRpcError) as refused:
            await get(GetPricesRequest(skus=[f"SKU-{n}" for n in range(101)]), timeout=5)
    assert refused.value.code() is grpc.StatusCode.INVALID_ARGUMENT


async def test_a_service_without_an_allow_list_is_not_served() -> None:
    unguarded = GrpcService(CATALOG, lambda server: None)
    with pytest.raises(ValueError, match=CATALOG):
        build_server([unguarded], {INVENTORY: {"catalog"}}, as_service("catalog"))
