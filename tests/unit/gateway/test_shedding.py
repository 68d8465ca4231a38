"""The gateway's shedding gate: after orders refuses a placement for overload, placements are
answered with that refusal at the edge for the hold, then forwarded again."""

import asyncio
from collections.abc import AsyncIterator

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from shoplab.gateway.shedding import SHED, Shedding

HOLD_SECONDS = 0.2
REFUSAL = {"type": "https://shoplab.local/problems/service-overloaded", "status": 503}


class Orders:
    """A stand-in owner of the placements: refuses while ``full``, counts what reaches it."""

    def __init__(self) -> None:
        self.full = True
        self.retry_after = True
        self.reached = 0

    async def place(self, _request: Request) -> Response:
        self.reached += 1
        if not self.full:
            return JSONResponse({"order_id": "o-1", "status": "PENDING"}, status_code=202)
        headers = {"RateLimit": '"placement-1s";r=9;t=1'}
        if self.retry_after:
            headers["Retry-After"] = "1"
        return JSONResponse(
            REFUSAL, status_code=503, headers=headers, media_type="application/problem+json"
        )

    async def read(self, _request: Request) -> Response:
        self.reached += 1
        return JSONResponse({"items": []}, status_code=503, headers={"Retry-After": "1"})


@pytest.fixture
def orders() -> Orders:
    return Orders()


@pytest.fixture
async def client(orders: Orders) -> AsyncIterator[httpx.AsyncClient]:
    app = Starlette(
        routes=[
            Route("/api/orders", orders.place, methods=["POST"]),
            Route("/api/orders", orders.read, methods=["GET"]),
        ]
    )
    gate = Shedding(app, hold_seconds=HOLD_SECONDS)
    transport = httpx.ASGITransport(app=gate)
    async with httpx.AsyncClient(transport=transport, base_url="http://edge") as client:
        yield client


async def test_a_refusal_is_replayed_at_the_edge_until_the_hold_ends(
    client: httpx.AsyncClient, orders: Orders
) -> None:
    first = await client.post("/api/orders", json={})
    assert first.status_code == 503
    assert orders.reached == 1
    shed_before = SHED._value.get()

    replayed = await client.post("/api/orders", json={})
    assert orders.reached == 1, "the placement was answered at the edge"
    assert replayed.status_code == 503
    assert replayed.json() == REFUSAL
    assert replayed.headers["retry-after"] == "1"
    assert replayed.headers["content-type"] == "application/problem+json"
    assert "ratelimit" not in replayed.headers, "another caller's quota is not replayed"
    assert SHED._value.get() == shed_before + 1

    orders.full = False
    await asyncio.sleep(HOLD_SECONDS * 1.5)
    placed = await client.post("/api/orders", json={})
    assert placed.status_code == 202
    assert orders.reached == 2
    again = await client.post("/api/orders", json={})
    assert again.status_code == 202
    assert orders.reached == 3, "an acceptance does not hold"


async def test_a_503_without_retry_after_does_not_hold(
    client: httpx.AsyncClient, orders: Orders
) -> None:
    orders.retry_after = False
    await client.post("/api/orders", json={})
    await client.post("/api/orders", json={})
    assert orders.reached == 2


async def test_only_placements_are_held(client: httpx.AsyncClient, orders: Orders) -> None:
    await client.get("/api/orders")
    assert (await client.post("/api/orders", json={})).status_code == 503
    await client.get("/api/orders")
    assert orders.reached == 3, "reads pass while placements are held"


async def test_a_hold_of_zero_forwards_every_placement(orders: Orders) -> None:
    app = Starlette(routes=[Route("/api/orders", orders.place, methods=["POST"])])
    gate = Shedding(app, hold_seconds=0)
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=gate), base_url="http://edge"
    ) as client:
        await client.post("/api/orders", json={})
        await client.post("/api/orders", json={})
    assert orders.reached == 2
