"""The API gateway over real HTTP, in front of stand-in services that record what they get.

The gateway is the real one, served by uvicorn; each service is a small ASGI app
on its own loopback port that answers what a test tells it to and records every
request, so the tests can read the very ``Authorization`` header that crossed.
Payments and notifications also answer over gRPC (the order details' parts): each
has a small servicer behind a real ``build_server`` on its own loopback port, with
the allow-list the services give (``gateway`` only), recording every call and its
metadata. The gateway finds both ports through a ``StaticResolver``.
"""

import asyncio
import json
import socket
import time
from collections.abc import AsyncIterator, Mapping
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar

import grpc
import grpc.aio
import httpx
import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from fastapi import APIRouter
from google.protobuf.message import Message
from google.protobuf.timestamp_pb2 import Timestamp
from jwt.algorithms import OKPAlgorithm
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import Receive, Scope, Send
from typing_extensions import override

from shoplab.contracts.grpc.notifications.v1 import notifications_pb2, notifications_pb2_grpc
from shoplab.contracts.grpc.notifications.v1.notifications_pb2 import (
    ListForOrderRequest,
    ListForOrderResponse,
)
from shoplab.contracts.grpc.payments.v1 import payments_pb2, payments_pb2_grpc
from shoplab.contracts.grpc.payments.v1.payments_pb2 import (
    AcceptsMethodRequest,
    AcceptsMethodResponse,
    GetPaymentRequest,
    GetPaymentResponse,
)
from shoplab.gateway import routes
from shoplab.gateway.app import Gateway, Timeouts
from shoplab.gateway.jwks import JwksCache
from shoplab.gateway.proxy import upstream_target
from shoplab.platform.auth import ANONYMOUS, CUSTOMER, SERVICE, Principal
from shoplab.platform.discovery import Instance
from shoplab.platform.discovery.static import StaticResolver
from shoplab.platform.grpc.auth import AUTHORIZATION
from shoplab.platform.grpc.server import GrpcService, build_server
from shoplab.platform.http.app import create_app
from shoplab.platform.http.edge_settings import EdgeSettings
from shoplab.platform.internal_auth import (
    AUDIENCE,
    ServiceCredentials,
    ensure_service_secret,
    load_service_secret,
)
from shoplab.platform.settings import PlatformSettings

from ..problems import assert_problem
from ..serving import served

ISSUER, API_AUDIENCE = "shoplab-identity", "shoplab-api"
BODY_LIMIT = 2_048
ORDER = {
    "order_id": "o1",
    "customer_id": "c1",
    "status": "CANCELLED",
    "reason": "CANCELLED_BY_CUSTOMER",
    "items": [{"sku": "SKU-1", "quantity": 2, "unit_price_cents": 1250}],
    "total_cents": 2500,
    "currency": "EUR",
    "created_at": "2026-01-02T03:04:05Z",
    "updated_at": "2026-01-02T03:04:08Z",
}
# The order's payment and notifications as the services' REST routes write them; the
# gateway reads them over gRPC and must write them the same way, byte for byte.
PAYMENT = {"order_id": "o1", "charged_cents": 2500, "refunded_cents": 2500, "status": "REFUNDED"}
NOTIFICATIONS = [
    {
        "kind": "ORDER_APPROVED",
        "order_id": "o1",
        "recipient": "ada@example.com",
        "sent_at": "2026-01-02T03:04:07Z",
    },
    {
        "kind": "ORDER_CANCELLED",
        "order_id": "o1",
        "recipient": "ada@example.com",
        "sent_at": "2026-01-02T03:04:08.250000Z",
    },
]
PAYMENTS_GRPC = payments_pb2.DESCRIPTOR.services_by_name["Payments"].full_name
NOTIFICATIONS_GRPC = notifications_pb2.DESCRIPTOR.services_by_name["Notifications"].full_name
GRPC_CALLERS = {PAYMENTS_GRPC: {"gateway"}, NOTIFICATIONS_GRPC: {"gateway"}}
"""The allow-lists of the real services for these two: the gateway only."""


# --- stand-in services -------------------------------------------------------------------


@dataclass
class Seen:
    method: str
    target: str
    headers: dict[str, str]
    body: bytes


@dataclass
class Answer:
    status: int = 200
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0


class StandIn:
    """A fake service: answers what it was told, records every request but health probes."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.url = ""
        self.grpc: GrpcStandIn | None = None
        """Its gRPC side, for the services the gateway also calls over gRPC."""
        self.reset()

    def reset(self) -> None:
        self.seen: list[Seen] = []
        self.answers: dict[tuple[str, str], Answer] = {}
        self.ready = True
        if self.grpc is not None:
            self.grpc.reset()

    def answer(self, method: str, target: str, answer: Answer) -> None:
        self.answers[(method, target)] = answer

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        request = Request(scope, receive)
        query = scope["query_string"].decode()
        target = scope["raw_path"].decode() + (f"?{query}" if query else "")
        if target == "/health/ready":
            await Response(status_code=200 if self.ready else 503)(scope, receive, send)
            return
        self.seen.append(Seen(request.method, target, dict(request.headers), await request.body()))
        answer = self.answers.get((request.method, target), Answer(404, {"title": "Not found"}))
        await asyncio.sleep(answer.delay)
        body = json.dumps(answer.body, separators=(",", ":")).encode()
        headers = {"content-type": "application/json", **answer.headers}
        await Response(body, status_code=answer.status, headers=headers)(scope, receive, send)


M = TypeVar("M", bound=Message)


@dataclass
class GrpcSeen:
    method: str
    request: Message
    metadata: dict[str, str | bytes]


@dataclass
class Reply:
    """What a gRPC stand-in answers: ``message``, or the error status ``code``, after ``delay``."""

    message: Message | None = None
    code: grpc.StatusCode | None = None
    delay: float = 0.0


class GrpcStandIn:
    """The gRPC side of a fake service: answers each method as told, records every call.

    An unconfigured method answers UNIMPLEMENTED.
    """

    def __init__(self) -> None:
        self.port = 0
        self.reset()

    def reset(self) -> None:
        self.seen: list[GrpcSeen] = []
        self.replies: dict[str, Reply] = {}

    def reply(self, method: str, reply: Reply) -> None:
        self.replies[method] = reply

    async def answer(
        self,
        method: str,
        request: Message,
        context: grpc.aio.ServicerContext[Any, Any],
        response_type: type[M],
    ) -> M:
        metadata = {key: value for key, value in context.invocation_metadata() or ()}
        self.seen.append(GrpcSeen(method, request, metadata))
        reply = self.replies.get(method, Reply(code=grpc.StatusCode.UNIMPLEMENTED))
        await asyncio.sleep(reply.delay)
        if reply.code is not None:
            await context.abort(reply.code, f"{method} fails, as the test said.")
        assert isinstance(reply.message, response_type)
        return reply.message


class PaymentsStandIn(payments_pb2_grpc.PaymentsServicer):
    def __init__(self, stand_in: GrpcStandIn) -> None:
        self._stand_in = stand_in

    @override
    async def AcceptsMethod(
        self,
        request: AcceptsMethodRequest,
        context: grpc.aio.ServicerContext[AcceptsMethodRequest, AcceptsMethodResponse],
    ) -> AcceptsMethodResponse:
        return await self._stand_in.answer("AcceptsMethod", request, context, AcceptsMethodResponse)

    @override
    async def GetPayment(
        self,
        request: GetPaymentRequest,
        context: grpc.aio.ServicerContext[GetPaymentRequest, GetPaymentResponse],
    ) -> GetPaymentResponse:
        return await self._stand_in.answer("GetPayment", request, context, GetPaymentResponse)


class NotificationsStandIn(notifications_pb2_grpc.NotificationsServicer):
    def __init__(self, stand_in: GrpcStandIn) -> None:
        self._stand_in = stand_in

    @override
    async def ListForOrder(
        self,
        request: ListForOrderRequest,
        context: grpc.aio.ServicerContext[ListForOrderRequest, ListForOrderResponse],
    ) -> ListForOrderResponse:
        return await self._stand_in.answer("ListForOrder", request, context, ListForOrderResponse)


def grpc_stand_in_service(service: str, stand_in: GrpcStandIn) -> GrpcService:
    if service == routes.PAYMENTS:
        payments = PaymentsStandIn(stand_in)
        return GrpcService(
            PAYMENTS_GRPC,
            lambda server: payments_pb2_grpc.add_PaymentsServicer_to_server(payments, server),
        )
    notifications = NotificationsStandIn(stand_in)
    return GrpcService(
        NOTIFICATIONS_GRPC,
        lambda server: notifications_pb2_grpc.add_NotificationsServicer_to_server(
            notifications, server
        ),
    )


@asynccontextmanager
async def served_grpc(
    service: str, stand_in: GrpcStandIn, credentials: ServiceCredentials
) -> AsyncIterator[int]:
    """Serve ``stand_in`` as ``service`` with a real server on a free loopback port."""
    server = build_server([grpc_stand_in_service(service, stand_in)], GRPC_CALLERS, credentials)
    await server.start()
    try:
        yield server.port
    finally:
        await server.stop(None)


def dead_url() -> str:
    """A loopback URL where nothing listens: connecting to it is refused."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{sock.getsockname()[1]}"


# --- the identity provider's key ----------------------------------------------------------


class TokenIssuer:
    """Signs access tokens as identity would, with an Ed25519 key made for the test."""

    def __init__(self, kid: str = "test-key") -> None:
        self.key = Ed25519PrivateKey.generate()
        self.kid = kid

    def jwks(self) -> dict[str, Any]:
        jwk = OKPAlgorithm.to_jwk(self.key.public_key(), as_dict=True)
        return {"keys": [{**jwk, "kid": self.kid, "use": "sig", "alg": "EdDSA"}]}

    def token(self, sub: str = "c1", role: str = CUSTOMER, **overrides: Any) -> str:
        now = datetime.now(UTC)
        claims = {
            "sub": sub,
            "role": role,
            "iss": ISSUER,
            "aud": API_AUDIENCE,
            "iat": now,
            "nbf": now,
            "exp": now + timedelta(minutes=5),
            **overrides,
        }
        headers = {"kid": self.kid, "typ": "at+jwt"}
        return jwt.encode(claims, self.key, algorithm="EdDSA", headers=headers)


# --- fixtures ------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("gateway")
    ensure_service_secret(path)
    return path


@pytest.fixture(scope="module")
def internal(data_dir: Path) -> ServiceCredentials:
    """Reads the internal tokens the gateway mints, as a service would."""
    return ServiceCredentials(load_service_secret(data_dir), "test")


@pytest.fixture(scope="module")
def issuer() -> TokenIssuer:
    return TokenIssuer()


@pytest.fixture(scope="module")
async def stand_ins(data_dir: Path) -> AsyncIterator[dict[str, StandIn]]:
    async with AsyncExitStack() as stack:
        services = {name: StandIn(name) for name in sorted(routes.SERVICES)}
        for service in services.values():
            service.url = await stack.enter_async_context(served(service))
        for name in (routes.PAYMENTS, routes.NOTIFICATIONS):
            side = services[name].grpc = GrpcStandIn()
            credentials = ServiceCredentials(load_service_secret(data_dir), name)
            side.port = await stack.enter_async_context(served_grpc(name, side, credentials))
        yield services


@pytest.fixture
def services(stand_ins: dict[str, StandIn], issuer: TokenIssuer) -> dict[str, StandIn]:
    for service in stand_ins.values():
        service.reset()
    stand_ins[routes.IDENTITY].answer("GET", "/.well-known/jwks.json", Answer(body=issuer.jwks()))
    return stand_ins


def resolver_for(services: dict[str, StandIn], urls: Mapping[str, str]) -> StaticResolver:
    """One instance per service at its URL (``http``), and its gRPC stand-in's port (``grpc``)."""
    instances = []
    for name, url in urls.items():
        address = httpx.URL(url)
        assert address.port is not None
        ports = {"http": address.port}
        side = services[name].grpc
        if side is not None:
            ports["grpc"] = side.port
        instances.append(Instance(service=name, id="1", host=address.host, ports=ports))
    return StaticResolver(instances)


@asynccontextmanager
async def gateway_for(
    data_dir: Path, services: dict[str, StandIn], timeouts: Timeouts = Timeouts(), **urls: str
) -> AsyncIterator[httpx.AsyncClient]:
    """A real gateway served over HTTP, and a client of its public port.

    ``urls`` replace some services' HTTP addresses (a dead one, say).
    """
    service_urls = {**{name: s.url for name, s in services.items()}, **urls}
    settings = PlatformSettings(
        data_dir=data_dir,
        service_urls=service_urls,
        jwt_issuer=ISSUER,
        jwt_audience=API_AUDIENCE,
        max_body_bytes=BODY_LIMIT,
    )
    gateway = Gateway(settings, timeouts, resolver=resolver_for(services, service_urls))
    async with (
        served(gateway.app(), lifespan="on") as url,
        httpx.AsyncClient(base_url=url) as client,
    ):
        yield client


@pytest.fixture
async def gateway(data_dir: Path, services: dict[str, StandIn]) -> AsyncIterator[httpx.AsyncClient]:
    async with gateway_for(data_dir, services) as client:
        yield client


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def caller_seen(internal: ServiceCredentials, seen: Seen | GrpcSeen) -> Principal:
    """Who the internal token of a request (HTTP header or gRPC metadata) names."""
    if isinstance(seen, GrpcSeen):
        authorization = seen.metadata[AUTHORIZATION]
        assert isinstance(authorization, str)
    else:
        authorization = seen.headers["authorization"]
    scheme, _, token = authorization.partition(" ")
    assert scheme == "Bearer"
    return internal.verify(token)


def grpc_side(services: dict[str, StandIn], name: str) -> GrpcStandIn:
    side = services[name].grpc
    assert side is not None
    return side


# --- routing -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "target"),
    [
        ("/api/auth/register", routes.IDENTITY),
        ("/api/auth/token", routes.IDENTITY),
        ("/.well-known/jwks.json", routes.IDENTITY),
        ("/api/products", routes.CATALOG),
        ("/api/products/SKU-1", routes.CATALOG),
        ("/api/orders", routes.ORDERS),
        ("/api/orders/o1", routes.ORDERS),
        ("/api/orders/o1/cancel", routes.ORDERS),
        ("/api/orders/o1/details", routes.COMPOSED),
        ("/api/admin/inventory/SKU-1", routes.INVENTORY),
        ("/api/admin/payments", routes.PAYMENTS),
        ("/api/admin/notifications", routes.NOTIFICATIONS),
        ("/api/admin/sagas/o1", routes.ORDERS),
        ("/api/auth", None),
        ("/api/productsX", None),
        ("/api/admin/payments/o1", None),
        ("/api/admin/sagas", None),
        ("/api/nothing", None),
        ("/elsewhere", None),
    ],
)
def test_the_routing_table_names_each_paths_owner(path: str, target: str | None) -> None:
    match = routes.route(path)
    assert (match.target if match else None) == target


@pytest.mark.parametrize(
    ("method", "path", "target"),
    [
        ("GET", "/api/orders", routes.HISTORY),
        ("POST", "/api/orders", routes.ORDERS),
        ("GET", "/api/orders/o1", routes.ORDERS),
        ("GET", "/api/admin/history/status", routes.HISTORY),
    ],
)
def test_the_order_list_is_read_from_the_history(method: str, path: str, target: str) -> None:
    match = routes.route(path, method)
    assert match is not None
    assert match.target == target


async def test_a_request_is_forwarded_with_what_matters_and_nothing_else(
    gateway: httpx.AsyncClient, services: dict[str, StandIn]
) -> None:
    orders = services[routes.ORDERS]
    orders.answer(
        "POST",
        "/api/orders?source=test",
        Answer(
            202,
            {"order_id": "o1", "status": "PENDING"},
            {"location": "/api/orders/o1", "x-served-by": "orders-7f3a", "retry-after": "1"},
        ),
    )
    answer = await gateway.post(
        "/api/orders?source=test",
        content=b'{"items": []}',
        headers={
            "content-type": "application/json",
            "idempotency-key": "k-1",
            "cookie": "session=secret",
            "x-debug": "1",
        },
    )
    assert answer.status_code == 202
    assert answer.json() == {"order_id": "o1", "status": "PENDING"}
    assert answer.headers["location"] == "/api/orders/o1"
    assert answer.headers["retry-after"] == "1"
    assert "x-served-by" not in answer.headers
    [seen] = orders.seen
    assert (seen.method, seen.target, seen.body) == (
        "POST",
        "/api/orders?source=test",
        b'{"items": []}',
    )
    assert seen.headers["content-type"] == "application/json"
    assert seen.headers["idempotency-key"] == "k-1"
    assert seen.headers["host"] == gateway.base_url.netloc.decode()
    assert "cookie" not in seen.headers
    assert "x-debug" not in seen.headers
    remaining_ms = int(seen.headers["shoplab-timeout-ms"])
    assert 0 < remaining_ms <= 10_000, "the service learns how long the gateway will wait"


async def test_the_path_reaches_the_service_as_the_client_encoded_it(
    gateway: httpx.AsyncClient, services: dict[str, StandIn]
) -> None:
    await gateway.get("/api/products/a%2Fb/%2E%2E/x?q=caf%C3%A9")
    [seen] = services[routes.CATALOG].seen
    assert seen.target == "/api/products/a%2Fb/%2E%2E/x?q=caf%C3%A9"


def test_literal_dot_segments_are_forwarded_encoded_not_resolved() -> None:
    scope = {"type": "http", "raw_path": b"/api/products/../x/.", "query_string": b"a=1"}
    assert upstream_target(scope) == "/api/products/%2E%2E/x/%2E?a=1"


async def test_a_service_problem_passes_through_unchanged(
    gateway: httpx.AsyncClient, services: dict[str, StandIn]
) -> None:
    refusal = {"type": "t", "title": "Unauthorized", "status": 401, "detail": "d"}
    services[routes.HISTORY].answer(
        "GET",
        "/api/orders",
        Answer(
            401,
            refusal,
            {"content-type": "application/problem+json", "www-authenticate": "Bearer"},
        ),
    )
    answer = await gateway.get("/api/orders")
    assert assert_problem(answer, 401) == refusal
    assert answer.headers["www-authenticate"] == "Bearer"


async def test_an_empty_idempotency_key_reaches_the_service_as_sent(
    gateway: httpx.AsyncClient, services: dict[str, StandIn]
) -> None:
    """Orders refuses an empty key (422); dropping it would place an order instead."""
    orders = services[routes.ORDERS]
    orders.answer("POST", "/api/orders", Answer(422, {"detail": "empty key"}))
    answer = await gateway.post("/api/orders", content=b"{}", headers={"idempotency-key": ""})
    assert answer.status_code == 422
    [seen] = orders.seen
    assert seen.headers["idempotency-key"] == ""


async def test_paths_nobody_serves_get_the_monolith_s_own_problems(
    gateway: httpx.AsyncClient, services: dict[str, StandIn]
) -> None:
    """The same bytes as an app of the chassis with the monolith's route gives."""
    router = APIRouter()

    @router.get("/api/orders/{order_id}/details")
    async def details(order_id: str) -> None: ...

    app = create_app(
        title="m", routers=[router], readiness={}, edge=EdgeSettings(max_body_bytes=BODY_LIMIT)
    )
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://m") as monolith:
        probes = [("GET", "/api/nothing"), ("POST", "/api/orders/o1/details")]
        probes += [("PUT", "/health/live"), ("DELETE", "/health/ready")]
        for method, path in probes:
            expected = await monolith.request(method, path)
            answer = await gateway.request(method, path)
            assert (answer.status_code, answer.content) == (expected.status_code, expected.content)
            assert answer.headers.get("allow") == expected.headers.get("allow")
    assert all(not service.seen for service in services.values())
    assert all(
        not grpc_side(services, name).seen for name in (routes.PAYMENTS, routes.NOTIFICATIONS)
    )


async def test_a_body_over_the_limit_is_refused_at_the_edge(
    gateway: httpx.AsyncClient, services: dict[str, StandIn]
) -> None:
    answer = await gateway.post("/api/orders", content=b"x" * (BODY_LIMIT + 1))
    assert_problem(answer, 413)
    assert not services[routes.ORDERS].seen


# --- authentication at the edge ------------------------------------------------------------


async def test_a_customer_token_is_verified_and_replaced_by_an_internal_one(
    data_dir: Path,
    gateway: httpx.AsyncClient,
    services: dict[str, StandIn],
    issuer: TokenIssuer,
    internal: ServiceCredentials,
) -> None:
    services[routes.HISTORY].answer("GET", "/api/orders", Answer(body={"items": []}))
    token = issuer.token("c1")
    answer = await gateway.get("/api/orders", headers=bearer(token))
    assert answer.json() == {"items": []}
    [seen] = services[routes.HISTORY].seen
    assert caller_seen(internal, seen) == Principal("c1", CUSTOMER)
    forwarded = seen.headers["authorization"].removeprefix("Bearer ")
    claims = jwt.decode(
        forwarded, load_service_secret(data_dir), algorithms=["HS256"], audience=AUDIENCE
    )
    assert claims["iss"] == "gateway"
    [jwks_call] = services[routes.IDENTITY].seen
    assert caller_seen(internal, jwks_call) == Principal("gateway", SERVICE)
    every_header = [
        value for s in services.values() for x in s.seen for value in x.headers.values()
    ]
    assert not any(token in value for value in every_header)


@pytest.mark.parametrize(
    "authorization",
    [
        None,
        "Bearer garbage",
        "Bearer",
        "Basic YWRhOnB3",
        "expired",
        "wrong-audience",
        "unknown-key",
        "forged",
    ],
)
async def test_no_token_or_a_bad_one_is_forwarded_as_anonymous(
    gateway: httpx.AsyncClient,
    services: dict[str, StandIn],
    issuer: TokenIssuer,
    internal: ServiceCredentials,
    authorization: str | None,
) -> None:
    past = datetime.now(UTC) - timedelta(hours=1)
    forged = TokenIssuer(kid=issuer.kid)
    tokens = {
        "expired": issuer.token(iat=past, exp=past + timedelta(minutes=5)),
        "wrong-audience": issuer.token(aud="elsewhere"),
        "unknown-key": TokenIssuer(kid="other-key").token(),
        "forged": forged.token(),
    }
    header = f"Bearer {tokens[authorization]}" if authorization in tokens else authorization
    services[routes.CATALOG].answer("GET", "/api/products", Answer(body={"items": []}))
    answer = await gateway.get(
        "/api/products", headers={"Authorization": header} if header is not None else {}
    )
    assert answer.status_code == 200
    [seen] = services[routes.CATALOG].seen
    assert caller_seen(internal, seen).role == ANONYMOUS


class FakeClock:
    def __init__(self) -> None:
        self.now = 1_000.0

    def __call__(self) -> float:
        return self.now


async def test_an_unknown_kid_refreshes_the_keys_at_most_once_a_minute() -> None:
    old, new = TokenIssuer("old"), TokenIssuer("new")
    published = old.jwks()
    fetches = 0

    async def fetch() -> dict[str, Any]:
        nonlocal fetches
        fetches += 1
        return published

    clock = FakeClock()
    cache = JwksCache(fetch, min_refresh_seconds=60, clock=clock)
    assert cache.current() == {}
    await cache.ensure("old")
    assert (fetches, set(cache.current())) == (1, {"old"})

    published = new.jwks()
    for elapsed in (1, 30, 59.9):
        clock.now = 1_000 + elapsed
        await cache.ensure("new")
        await cache.ensure("made-up")
    assert (fetches, set(cache.current())) == (1, {"old"})

    clock.now = 1_060
    await asyncio.gather(*(cache.ensure("new") for _ in range(10)))
    assert (fetches, set(cache.current())) == (2, {"new"})
    await cache.ensure("new")
    await cache.ensure("made-up")
    assert fetches == 2


async def test_the_first_jwks_load_must_succeed_and_a_failed_refresh_keeps_the_keys() -> None:
    issuer = TokenIssuer("k1")
    failing = True
    fetches = 0

    async def fetch() -> dict[str, Any]:
        nonlocal fetches
        fetches += 1
        if failing:
            raise ConnectionError("identity is down")
        return issuer.jwks()

    clock = FakeClock()
    cache = JwksCache(fetch, clock=clock)
    with pytest.raises(ConnectionError):
        await cache.ensure("k1")
    failing = False
    await cache.ensure("k1")
    assert (fetches, set(cache.current())) == (2, {"k1"})

    failing = True
    clock.now += 61
    await cache.ensure("k2")
    await cache.ensure("k2")
    assert (fetches, set(cache.current())) == (3, {"k1"})


# --- the order details (API composition) --------------------------------------------------


def sent(
    kind: notifications_pb2.NotificationKind.ValueType, at: str
) -> notifications_pb2.Notification:
    """One notification as notifications' gRPC servicer sends it."""
    sent_at = Timestamp()
    sent_at.FromJsonString(at)
    return notifications_pb2.Notification(
        kind=kind, order_id="o1", recipient="ada@example.com", sent_at=sent_at
    )


PAID = Reply(
    GetPaymentResponse(
        found=True,
        charged_cents=2500,
        refunded_cents=2500,
        status=payments_pb2.PAYMENT_STATUS_REFUNDED,
    )
)
NOTIFIED = Reply(
    ListForOrderResponse(
        items=[
            sent(notifications_pb2.NOTIFICATION_KIND_ORDER_APPROVED, "2026-01-02T03:04:07Z"),
            sent(notifications_pb2.NOTIFICATION_KIND_ORDER_CANCELLED, "2026-01-02T03:04:08.25Z"),
        ]
    )
)
DOWN = Reply(code=grpc.StatusCode.UNAVAILABLE)
PART_TIMEOUT = 0.5
LATE = 5.0
"""Far beyond the part timeout: a part this slow must not hold the answer."""
MARGIN = 1.0
"""What the answer may take beyond the part timeout on a busy machine."""


def details_answers(services: dict[str, StandIn], payment: Reply, notifications: Reply) -> None:
    services[routes.ORDERS].answer("GET", "/api/orders/o1", Answer(body=ORDER))
    grpc_side(services, routes.PAYMENTS).reply("GetPayment", payment)
    grpc_side(services, routes.NOTIFICATIONS).reply("ListForOrder", notifications)


@pytest.mark.parametrize(
    ("payment", "notifications", "expected"),
    [
        (PAID, NOTIFIED, (PAYMENT, NOTIFICATIONS, [])),
        (Reply(GetPaymentResponse(found=False)), NOTIFIED, (None, NOTIFICATIONS, [])),
        (PAID, Reply(ListForOrderResponse()), (PAYMENT, [], [])),
        (DOWN, NOTIFIED, (None, NOTIFICATIONS, ["payment"])),
        (replace(PAID, delay=LATE), NOTIFIED, (None, NOTIFICATIONS, ["payment"])),
        (PAID, DOWN, (PAYMENT, [], ["notifications"])),
        (DOWN, replace(NOTIFIED, delay=LATE), (None, [], ["payment", "notifications"])),
    ],
    ids=[
        "whole",
        "no-payment-yet",
        "no-notifications-yet",
        "payment-fails",
        "payment-late",
        "notifications-fail",
        "both",
    ],
)
async def test_the_details_are_composed_and_a_failing_part_is_degraded(
    data_dir: Path,
    services: dict[str, StandIn],
    issuer: TokenIssuer,
    internal: ServiceCredentials,
    payment: Reply,
    notifications: Reply,
    expected: tuple[Any, list[Any], list[str]],
) -> None:
    details_answers(services, payment, notifications)
    async with gateway_for(data_dir, services, Timeouts(part=PART_TIMEOUT)) as gateway:
        started = time.perf_counter()
        answer = await gateway.get("/api/orders/o1/details", headers=bearer(issuer.token("c1")))
        elapsed = time.perf_counter() - started
    want = dict(zip(["payment", "notifications", "degraded"], expected, strict=True))
    assert answer.status_code == 200
    assert answer.headers["content-type"] == "application/json"
    assert (
        answer.content
        == json.dumps({"order": ORDER, **want}, separators=(",", ":"), ensure_ascii=False).encode()
    )
    assert elapsed < PART_TIMEOUT + MARGIN, f"answered in {elapsed:.2f} s"
    [order_call] = services[routes.ORDERS].seen
    assert caller_seen(internal, order_call) == Principal("c1", CUSTOMER)
    parts = {routes.PAYMENTS: GetPaymentRequest, routes.NOTIFICATIONS: ListForOrderRequest}
    for part, request_type in parts.items():
        assert not services[part].seen, "the parts are read over gRPC, not the admin routes"
        calls = grpc_side(services, part).seen
        assert calls, f"{part} was not called"  # more than one when UNAVAILABLE is retried
        for call in calls:
            assert call.request == request_type(order_id="o1")
            assert caller_seen(internal, call) == Principal("gateway", SERVICE)


async def test_the_details_pass_the_orders_refusal_through(
    gateway: httpx.AsyncClient, services: dict[str, StandIn], internal: ServiceCredentials
) -> None:
    absent = {"type": "t", "title": "Not found", "status": 404, "detail": "No order o1."}
    headers = {"content-type": "application/problem+json"}
    services[routes.ORDERS].answer("GET", "/api/orders/o1", Answer(404, absent, headers))
    answer = await gateway.get("/api/orders/o1/details")
    assert assert_problem(answer, 404) == absent
    [seen] = services[routes.ORDERS].seen
    assert caller_seen(internal, seen).role == ANONYMOUS
    for part in (routes.PAYMENTS, routes.NOTIFICATIONS):
        assert not services[part].seen
        assert not grpc_side(services, part).seen


# --- services that do not answer ----------------------------------------------------------


async def test_a_dead_service_is_a_503_that_names_no_host(
    data_dir: Path, services: dict[str, StandIn]
) -> None:
    url = dead_url()
    async with gateway_for(data_dir, services, inventory=url) as gateway:
        answer = await gateway.get("/api/admin/inventory/SKU-1")
    body = assert_problem(answer, 503)
    port = url.rsplit(":", 1)[1]
    for secret in ("127.0.0.1", port, "inventory", "Connect", "Error"):
        assert secret not in answer.text
    assert body["title"] == "Service unavailable"
    assert answer.headers["Retry-After"] == "1", "a 503 says when to come back"


async def test_a_silent_service_is_a_504(data_dir: Path, services: dict[str, StandIn]) -> None:
    services[routes.CATALOG].answer("GET", "/api/products", Answer(body={}, delay=2))
    async with gateway_for(data_dir, services, Timeouts(forward=0.3)) as gateway:
        answer = await gateway.get("/api/products")
    assert assert_problem(answer, 504)["title"] == "Gateway timeout"
    assert "127.0.0.1" not in answer.text


# --- health --------------------------------------------------------------------------------


async def test_ready_only_when_every_service_is(
    data_dir: Path, services: dict[str, StandIn]
) -> None:
    async with gateway_for(data_dir, services) as gateway:
        assert (await gateway.get("/health/live")).status_code == 200
        ready = await gateway.get("/health/ready")
        assert ready.status_code == 200
        assert set(ready.json()["checks"]) == routes.SERVICES
        services[routes.PAYMENTS].ready = False
        unready = await gateway.get("/health/ready")
    assert unready.status_code == 503
    checks = unready.json()["checks"]
    assert [name for name, ok in checks.items() if not ok] == [routes.PAYMENTS]


async def test_a_dead_service_makes_the_gateway_unready(
    data_dir: Path, services: dict[str, StandIn]
) -> None:
    async with gateway_for(data_dir, services, notifications=dead_url()) as gateway:
        answer = await gateway.get("/health/ready")
    assert answer.status_code == 503
    assert answer.json()["checks"][routes.NOTIFICATIONS] is False


# --- the public contract --------------------------------------------------------------------


OWN_PATHS = {
    routes.IDENTITY: "/api/auth/token",
    routes.CATALOG: "/api/products",
    routes.ORDERS: "/api/orders/{order_id}",
    routes.INVENTORY: "/api/admin/inventory/{sku}",
    routes.PAYMENTS: "/api/admin/payments",
    routes.NOTIFICATIONS: "/api/admin/notifications",
    routes.HISTORY: "/api/orders",
}
"""A path each service serves (a GET), as the routing table says."""
DETAILS_PATH = "/api/orders/{order_id}/details"
"""Documented by the gateway itself, which composes the answer."""


async def test_the_openapi_is_the_services_public_paths_merged(
    gateway: httpx.AsyncClient, services: dict[str, StandIn], internal: ServiceCredentials
) -> None:
    for name, service in services.items():
        service.answer(
            "GET",
            "/api/openapi.json",
            Answer(
                body={
                    "openapi": "3.1.0",
                    "info": {"title": name, "version": "0"},
                    "paths": {OWN_PATHS[name]: {"get": {}}, f"/internal/{name}": {"get": {}}},
                }
            ),
        )
    document = (await gateway.get("/api/openapi.json")).json()
    assert sorted(document["paths"]) == sorted([*OWN_PATHS.values(), DETAILS_PATH])
    for service in services.values():
        [seen] = service.seen
        assert caller_seen(internal, seen).role == "service"
    assert (await gateway.get("/api/openapi.json")).json() == document
    assert all(len(service.seen) == 1 for service in services.values()), "kept, not refetched"
    docs = await gateway.get("/api/docs")
    assert docs.status_code == 200
    assert "/api/openapi.json" in docs.text


async def test_the_openapi_is_a_503_while_a_service_does_not_answer(
    gateway: httpx.AsyncClient, services: dict[str, StandIn]
) -> None:
    answer = await gateway.get("/api/openapi.json")
    assert_problem(answer, 503)
