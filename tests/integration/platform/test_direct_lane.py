"""The ``DirectLane``: a direct route's handler called from the edge, as the router would.

Each direct handler here writes down whether the router's layers ran before it (the
exception middleware leaves its mark on the request's scope), so a test can tell the lane
from the route that answers through the router.
"""

from typing import Any

import httpx
import pytest
from fastapi import APIRouter, FastAPI
from prometheus_client import CollectorRegistry
from pydantic import BaseModel
from starlette.requests import Request

from shoplab.platform.errors import NotFound
from shoplab.platform.http.app import create_app
from shoplab.platform.http.direct import Answered, DirectRoute, served_directly

ROUTER_MARK = "starlette.exception_handlers"
"""What the exception middleware puts in the scope: present when the router's layers ran."""


class Thing(BaseModel):
    name: str
    via: str


class Seen:
    def __init__(self) -> None:
        self.direct: list[bool] = []
        """For each request a direct handler answered: whether it came through the router."""
        self.endpoint = 0


def app_with(seen: Seen, registry: CollectorRegistry) -> FastAPI:
    literal = APIRouter(prefix="/api/things")

    @literal.get("/special")
    async def special() -> Thing:
        return Thing(name="special", via="literal")

    things = APIRouter(prefix="/api/things", route_class=DirectRoute)

    async def read_directly(request: Request) -> Answered | None:
        seen.direct.append(ROUTER_MARK in request.scope)
        name = request.scope["path_params"]["name"]
        if name == "missing":
            raise NotFound("No such thing.")
        if name == "broken":
            raise RuntimeError("a bug")
        if request.headers.get("x-decline"):
            return None
        return Answered(Thing(name=name, via="direct"), {"X-Thing": name})

    @things.get("/{name}")
    @served_directly(read_directly)
    async def read(name: str) -> Thing:
        seen.endpoint += 1
        return Thing(name=name, via="endpoint")

    async def create_directly(request: Request) -> Answered | None:
        seen.direct.append(ROUTER_MARK in request.scope)
        return None  # always FastAPI's own handler, which reads the body again

    @things.post("", status_code=201)
    @served_directly(create_directly)
    async def create(thing: Thing) -> Thing:
        seen.endpoint += 1
        return thing

    return create_app(title="t", routers=[literal, things], readiness={}, metrics_registry=registry)


@pytest.fixture
def seen() -> Seen:
    return Seen()


@pytest.fixture
def registry() -> CollectorRegistry:
    return CollectorRegistry()


@pytest.fixture
async def client(seen: Seen, registry: CollectorRegistry) -> Any:
    transport = httpx.ASGITransport(app=app_with(seen, registry), raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
        yield client


async def test_a_direct_route_is_answered_before_the_router(
    client: httpx.AsyncClient, seen: Seen, registry: CollectorRegistry
) -> None:
    answer = await client.get("/api/things/a")
    assert answer.status_code == 200
    assert answer.json() == {"name": "a", "via": "direct"}
    assert answer.headers["x-thing"] == "a"
    assert seen.direct == [False], "the router's layers did not run"
    assert seen.endpoint == 0
    labels = {"method": "GET", "route": "/api/things/{name}", "status": "200"}
    assert registry.get_sample_value("shoplab_http_requests_total", labels) == 1.0


async def test_a_route_the_router_tries_first_keeps_its_requests(
    client: httpx.AsyncClient, seen: Seen, registry: CollectorRegistry
) -> None:
    answer = await client.get("/api/things/special")
    assert answer.json() == {"name": "special", "via": "literal"}
    assert seen.direct == []
    labels = {"method": "GET", "route": "/api/things/special", "status": "200"}
    assert registry.get_sample_value("shoplab_http_requests_total", labels) == 1.0


async def test_a_declined_request_goes_to_fastapis_handler_with_its_body(
    client: httpx.AsyncClient, seen: Seen
) -> None:
    declined = await client.get("/api/things/b", headers={"x-decline": "1"})
    assert declined.json() == {"name": "b", "via": "endpoint"}
    created = await client.post("/api/things", json={"name": "c", "via": "body"})
    assert created.status_code == 201
    assert created.json() == {"name": "c", "via": "body"}
    invalid = await client.post("/api/things", json={"name": 3})
    assert invalid.status_code == 422
    assert invalid.headers["content-type"] == "application/problem+json"
    assert seen.direct == [False, False, False]
    assert seen.endpoint == 2


async def test_errors_are_answered_by_the_apps_handlers(
    client: httpx.AsyncClient, seen: Seen
) -> None:
    missing = await client.get("/api/things/missing")
    assert missing.status_code == 404
    assert missing.headers["content-type"] == "application/problem+json"
    assert missing.json()["detail"] == "No such thing."
    broken = await client.get("/api/things/broken")
    assert broken.status_code == 500
    assert broken.headers["content-type"] == "application/problem+json"
    assert seen.direct == [False, False]


async def test_other_methods_and_paths_are_the_routers(client: httpx.AsyncClient) -> None:
    assert (await client.delete("/api/things/a")).status_code == 405
    assert (await client.get("/api/nothing")).status_code == 404
