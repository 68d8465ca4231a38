"""Requests and RPCs on the process's metrics: counted by route or method, with their exact codes.

gRPC through a real grpc.aio server on loopback and channels of the chassis; HTTP through
an app of ``create_app``, in process. Each test reads a registry of its own.
"""

import asyncio
import re
from collections.abc import AsyncIterator
from typing import Any

import grpc
import grpc.aio
import httpx
import pytest
from fastapi import APIRouter, FastAPI
from prometheus_client import REGISTRY, CollectorRegistry
from pydantic import BaseModel
from starlette.middleware import Middleware
from typing_extensions import override

from shoplab.catalog.entrypoints.grpc_api import SERVICE as CATALOG
from shoplab.contracts.grpc.catalog.v1 import catalog_pb2_grpc
from shoplab.contracts.grpc.catalog.v1.catalog_pb2 import GetPricesRequest, GetPricesResponse
from shoplab.contracts.grpc.catalog.v1.catalog_pb2_grpc import CatalogStub
from shoplab.platform.grpc.client import loopback, open_channel
from shoplab.platform.grpc.server import GrpcService, build_server
from shoplab.platform.http.app import create_app
from shoplab.platform.http.edge_settings import EdgeSettings
from shoplab.platform.http.internal_guard import ServiceGuard
from shoplab.platform.internal_auth import ServiceCredentials

SECRET = b"m" * 32
GET_PRICES = {"grpc_service": CATALOG, "grpc_method": "GetPrices"}
LIMIT = 1_024


def as_service(name: str) -> ServiceCredentials:
    return ServiceCredentials(SECRET, issuer=name)


@pytest.fixture
def registry() -> CollectorRegistry:
    return CollectorRegistry()


# --- gRPC ---------------------------------------------------------------------------------


class ProbeCatalog(catalog_pb2_grpc.CatalogServicer):
    """Answers by its first sku: ``missing`` aborts, ``boom`` raises, ``slow`` outlives a
    short deadline, any other is served."""

    @override
    async def GetPrices(
        self,
        request: GetPricesRequest,
        context: grpc.aio.ServicerContext[GetPricesRequest, GetPricesResponse],
    ) -> GetPricesResponse:
        match request.skus[0]:
            case "missing":
                await context.abort(grpc.StatusCode.NOT_FOUND, "No such sku.")
            case "boom":
                raise RuntimeError("the servicer failed")
            case "slow":
                await asyncio.sleep(5)
        return GetPricesResponse()


@pytest.fixture
async def grpc_port(registry: CollectorRegistry) -> AsyncIterator[int]:
    probe = ProbeCatalog()
    service = GrpcService(
        CATALOG, lambda server: catalog_pb2_grpc.add_CatalogServicer_to_server(probe, server)
    )
    server = build_server(
        [service], {CATALOG: {"orders"}}, as_service("catalog"), metrics_registry=registry
    )
    await server.start()
    try:
        yield server.port
    finally:
        await server.stop(None)


async def get_prices(
    port: int, registry: CollectorRegistry, sku: str, deadline_seconds: float = 5
) -> None:
    """Call as orders does: a channel of the chassis, with orders's credentials."""
    channel = open_channel(loopback(port), as_service("orders"), metrics_registry=registry)
    async with channel:
        request = GetPricesRequest(skus=[sku])
        await CatalogStub(channel).GetPrices(request, timeout=deadline_seconds)


def handled(registry: CollectorRegistry, side: str, code: str, **labels: str) -> float | None:
    name = f"shoplab_grpc_{side}_handled_total"
    return registry.get_sample_value(name, {**GET_PRICES, **labels, "grpc_code": code})


async def eventually_handled(registry: CollectorRegistry, side: str, code: str) -> float | None:
    """The server counts a call cut short once its handler has been cancelled, just after."""
    for _ in range(100):
        if handled(registry, side, code):
            break
        await asyncio.sleep(0.02)
    return handled(registry, side, code)


async def test_a_served_method_shows_every_code_at_zero(
    grpc_port: int, registry: CollectorRegistry
) -> None:
    for code in ("OK", "NOT_FOUND", "UNKNOWN", "UNAUTHENTICATED"):
        assert handled(registry, "server", code) == 0
    count = "shoplab_grpc_server_handling_seconds_count"
    assert registry.get_sample_value(count, GET_PRICES) == 0


async def test_each_call_counts_with_its_final_code_on_both_sides(
    grpc_port: int, registry: CollectorRegistry
) -> None:
    await get_prices(grpc_port, registry, "SKU-1")
    for sku, code in (("missing", grpc.StatusCode.NOT_FOUND), ("boom", grpc.StatusCode.UNKNOWN)):
        with pytest.raises(grpc.aio.AioRpcError) as failed:
            await get_prices(grpc_port, registry, sku)
        assert failed.value.code() is code

    for side in ("server", "client"):
        assert handled(registry, side, "OK") == 1
        assert handled(registry, side, "NOT_FOUND") == 1
        assert handled(registry, side, "UNKNOWN") == 1
        count = f"shoplab_grpc_{side}_handling_seconds_count"
        assert registry.get_sample_value(count, GET_PRICES) == 3


async def test_a_call_past_its_deadline_counts_as_deadline_exceeded(
    grpc_port: int, registry: CollectorRegistry
) -> None:
    with pytest.raises(grpc.aio.AioRpcError) as late:
        await get_prices(grpc_port, registry, "slow", deadline_seconds=0.2)
    assert late.value.code() is grpc.StatusCode.DEADLINE_EXCEEDED
    assert handled(registry, "client", "DEADLINE_EXCEEDED") == 1
    assert await eventually_handled(registry, "server", "DEADLINE_EXCEEDED") == 1
    assert handled(registry, "server", "OK") == 0


async def test_refused_calls_count_and_unknown_methods_share_one_series(
    grpc_port: int, registry: CollectorRegistry
) -> None:
    async with grpc.aio.insecure_channel(loopback(grpc_port)) as bare:  # no token
        with pytest.raises(grpc.aio.AioRpcError):
            await CatalogStub(bare).GetPrices(GetPricesRequest(skus=["SKU-1"]), timeout=5)
        for name in ("DropTables", "ListUsers"):
            probe: grpc.aio.UnaryUnaryMultiCallable[bytes, bytes] = bare.unary_unary(
                f"/{CATALOG}/{name}"
            )
            with pytest.raises(grpc.aio.AioRpcError):
                await probe(b"", timeout=5)

    assert handled(registry, "server", "UNAUTHENTICATED") == 1
    unknown = {"grpc_service": "unknown", "grpc_method": "unknown"}
    assert handled(registry, "server", "UNAUTHENTICATED", **unknown) == 2
    for name in ("DropTables", "ListUsers"):
        refused = {"grpc_method": name, "grpc_code": "UNAUTHENTICATED"}
        labels = {**GET_PRICES, **refused}
        assert registry.get_sample_value("shoplab_grpc_server_handled_total", labels) is None


def test_a_service_without_a_contract_is_refused() -> None:
    stranger = GrpcService("shoplab.nothing.v1.Nothing", lambda server: None)
    with pytest.raises(ValueError, match=re.escape(stranger.name)):
        build_server([stranger], {stranger.name: {"orders"}}, as_service("nothing"))


# --- HTTP ---------------------------------------------------------------------------------


class Thing(BaseModel):
    name: str


def thing_app(registry: CollectorRegistry, **options: Any) -> FastAPI:
    router = APIRouter()

    @router.get("/api/things/{thing_id}")
    async def thing(thing_id: str) -> dict[str, str]:
        return {"id": thing_id}

    @router.post("/api/things", status_code=201)
    async def add(thing: Thing) -> Thing:
        return thing

    @router.get("/api/busy")
    async def busy() -> dict[str, float | None]:
        series = {"method": "GET", "route": "/api/busy"}
        in_progress = registry.get_sample_value("shoplab_http_requests_in_progress", series)
        return {"in_progress": in_progress}

    @router.get("/api/broken")
    async def broken() -> None:
        raise RuntimeError("the handler failed")

    return create_app(
        title="t",
        routers=[router],
        readiness={},
        edge=EdgeSettings(max_body_bytes=LIMIT),
        metrics_registry=registry,
        **options,
    )


async def call(app: FastAPI, method: str, path: str, **kwargs: Any) -> httpx.Response:
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
        return await client.request(method, path, **kwargs)


def requests(registry: CollectorRegistry, method: str, route: str, status: int) -> float | None:
    labels = {"method": method, "route": route, "status": str(status)}
    return registry.get_sample_value("shoplab_http_requests_total", labels)


async def test_requests_count_by_route_template_not_by_path(registry: CollectorRegistry) -> None:
    app = thing_app(registry)
    for thing_id in ("t1", "t2"):
        assert (await call(app, "GET", f"/api/things/{thing_id}")).status_code == 200

    assert requests(registry, "GET", "/api/things/{thing_id}", 200) == 2
    assert requests(registry, "GET", "/api/things/t1", 200) is None
    duration = {"method": "GET", "route": "/api/things/{thing_id}"}
    count = "shoplab_http_request_duration_seconds_count"
    assert registry.get_sample_value(count, duration) == 2


async def test_errors_count_with_their_exact_status(registry: CollectorRegistry) -> None:
    app = thing_app(registry)
    assert (await call(app, "GET", "/api/nowhere/at/all")).status_code == 404
    assert (await call(app, "POST", "/api/things", json={"colour": "red"})).status_code == 422
    assert (await call(app, "POST", "/api/things", content=b"x" * (LIMIT + 1))).status_code == 413
    assert (await call(app, "GET", "/api/broken")).status_code == 500

    assert requests(registry, "GET", "unmatched", 404) == 1
    assert requests(registry, "POST", "/api/things", 422) == 1
    assert requests(registry, "POST", "/api/things", 413) == 1
    assert requests(registry, "GET", "/api/broken", 500) == 1


async def test_a_method_nobody_uses_is_counted_as_other(registry: CollectorRegistry) -> None:
    answer = await call(thing_app(registry), "BREW", "/api/things/t1")
    assert answer.status_code == 405
    assert requests(registry, "OTHER", "/api/things/{thing_id}", 405) == 1
    assert requests(registry, "BREW", "/api/things/{thing_id}", 405) is None


async def test_a_request_is_in_progress_while_it_is_answered(registry: CollectorRegistry) -> None:
    answer = await call(thing_app(registry), "GET", "/api/busy")
    assert answer.json() == {"in_progress": 1.0}
    series = {"method": "GET", "route": "/api/busy"}
    assert registry.get_sample_value("shoplab_http_requests_in_progress", series) == 0


async def test_scrapes_and_probes_are_not_counted(registry: CollectorRegistry) -> None:
    app = thing_app(registry)
    await call(app, "GET", "/api/things/t1")
    await call(app, "GET", "/health/live")
    scrape = await call(app, "GET", "/metrics")

    assert requests(registry, "GET", "/health/live", 200) is None
    assert requests(registry, "GET", "/metrics", 200) is None
    assert (
        'shoplab_http_requests_total{method="GET",route="/api/things/{thing_id}",status="200"} 1.0'
        in scrape.text
    )


async def test_an_answer_of_an_app_middleware_is_counted(registry: CollectorRegistry) -> None:
    guard = Middleware(ServiceGuard, credentials=as_service("orders"))
    app = thing_app(registry, middleware=[guard])
    assert (await call(app, "GET", "/api/things/t1")).status_code == 401
    assert requests(registry, "GET", "/api/things/{thing_id}", 401) == 1


async def test_every_app_of_a_process_counts_on_the_default_registry() -> None:
    """Tests (and a process) may build several apps: the second must count as the first."""
    router = APIRouter()

    @router.get("/api/twice/{n}")
    async def twice(n: int) -> int:
        return n

    labels = {"method": "GET", "route": "/api/twice/{n}", "status": "200"}
    before = REGISTRY.get_sample_value("shoplab_http_requests_total", labels) or 0
    for n in (1, 2):
        app = create_app(
            title="t", routers=[router], readiness={}, edge=EdgeSettings(max_body_bytes=LIMIT)
        )
        assert (await call(app, "GET", f"/api/twice/{n}")).status_code == 200

    assert REGISTRY.get_sample_value("shoplab_http_requests_total", labels) == before + 2
