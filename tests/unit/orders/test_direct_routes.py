"""The hot routes answer a well-formed request directly, with the bytes FastAPI would send,
and hand any other request to FastAPI, whose 401 and 422 answers they keep."""

from typing import Any

import httpx
import pytest
from fastapi import FastAPI, Request
from prometheus_client import CollectorRegistry
from starlette.middleware import Middleware
from starlette.types import ASGIApp, Receive, Scope, Send

from shoplab.orders.entrypoints.api import build_router
from shoplab.platform.auth import VERIFIED_CALLER, Authenticator, BearerCredentials, Principal
from shoplab.platform.http.app import create_app

from .test_use_cases import ADA, approving

ORDER = {"items": [{"sku": "KB-001", "quantity": 2}], "payment_method": "pm_card_visa"}


class CountingAuthenticator(Authenticator):
    """Verifies every token as Ada's, and counts the times FastAPI's dependency ran."""

    def __init__(self) -> None:
        super().__init__(self)
        self.calls = 0

    def verify(self, token: str) -> Principal:
        return ADA

    async def customer(self, request: Request, credentials: BearerCredentials) -> Principal:
        self.calls += 1
        return await super().customer(request, credentials)


class Guard:
    """What the services' guard leaves for the routes: the caller it verified, when asked to."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and (b"x-guarded", b"yes") in scope["headers"]:
            scope.setdefault("state", {})[VERIFIED_CALLER] = ADA
        await self.app(scope, receive, send)


@pytest.fixture
def auth() -> CountingAuthenticator:
    return CountingAuthenticator()


@pytest.fixture
def app(auth: CountingAuthenticator) -> FastAPI:
    shop, _ = approving()
    return create_app(
        title="orders",
        routers=[build_router(lambda: shop.uow, shop.connect, auth)],
        readiness={},
        middleware=[Middleware(Guard)],
        metrics_registry=CollectorRegistry(),
    )


async def call(
    app: FastAPI, method: str, path: str, *, guarded: bool, **options: Any
) -> httpx.Response:
    headers = {"Authorization": "Bearer t", **options.pop("headers", {})}
    if guarded:
        headers["X-Guarded"] = "yes"
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://o") as client:
        return await client.request(method, path, headers=headers, **options)


async def test_a_placement_is_answered_directly_as_fastapi_answers_it(
    app: FastAPI, auth: CountingAuthenticator
) -> None:
    direct = await call(app, "POST", "/api/orders", guarded=True, json=ORDER)
    assert auth.calls == 0
    declared = await call(app, "POST", "/api/orders", guarded=False, json=ORDER)
    assert auth.calls == 1
    assert direct.status_code == declared.status_code == 202
    assert list(direct.headers) == list(declared.headers)
    assert direct.json().keys() == declared.json().keys()
    assert direct.headers["location"] == f"/api/orders/{direct.json()['order_id']}"


async def test_an_order_read_directly_is_the_same_bytes(
    app: FastAPI, auth: CountingAuthenticator
) -> None:
    placed = await call(app, "POST", "/api/orders", guarded=True, json=ORDER)
    path = placed.headers["location"]
    direct = await call(app, "GET", path, guarded=True)
    assert auth.calls == 0
    declared = await call(app, "GET", path, guarded=False)
    assert direct.status_code == 200
    assert direct.headers.raw == declared.headers.raw
    assert direct.content == declared.content


@pytest.mark.parametrize(
    ("body", "headers"),
    [
        (b'{"items": [], "payment_method": "pm_card_visa"}', {}),
        (b"{not json", {}),
        pytest.param(b"[" * 20_000 + b"]" * 20_000, {}, id="too-deep"),
        (b'{"items": [{"sku": "KB-001", "quantity": "2"}], "payment_method": "x"}', {}),
        (
            b'{"items": [{"sku": "KB-001", "quantity": 1}], "payment_method": "pm_card_visa"}',
            {"Idempotency-Key": ""},
        ),
    ],
)
async def test_what_is_not_well_formed_gets_fastapis_answer(
    app: FastAPI, body: bytes, headers: dict[str, str]
) -> None:
    headers = {"Content-Type": "application/json", **headers}
    direct = await call(app, "POST", "/api/orders", guarded=True, content=body, headers=headers)
    declared = await call(app, "POST", "/api/orders", guarded=False, content=body, headers=headers)
    assert direct.status_code == 422
    assert direct.content == declared.content


async def test_a_missing_order_is_the_same_problem(app: FastAPI) -> None:
    direct = await call(app, "GET", "/api/orders/nope", guarded=True)
    declared = await call(app, "GET", "/api/orders/nope", guarded=False)
    assert direct.status_code == 404
    assert direct.content == declared.content
