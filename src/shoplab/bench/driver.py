"""The benchmark's set-up through the public API: customers signed in, the stock set.

This is the slow, general path (aiohttp), used before and after the measured phases: to
register and sign in the customers, to set the stock, and to read orders back for the
invariants. The measured placements go through ``client``, which costs far less per request.
"""

import asyncio
import uuid
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import aiohttp

ADMIN_EMAIL = "admin@shoplab.local"
PASSWORD = "bench-password-1"
SETUP_CONCURRENCY = 8


class BenchFailed(Exception):
    """The system did not do what the workload needs (an order never settled, say)."""


@dataclass
class Shop:
    """A signed-in client of one running system."""

    http: aiohttp.ClientSession
    url: str
    admin: dict[str, str]
    customers: list[dict[str, str]]
    errors: Counter[str] = field(default_factory=Counter)

    async def json(
        self, method: str, path: str, headers: dict[str, str], body: object = None
    ) -> tuple[int, Any]:
        async with self.http.request(method, self.url + path, headers=headers, json=body) as r:
            return r.status, await r.json(content_type=None)


async def sign_in(
    http: aiohttp.ClientSession, url: str, email: str, password: str
) -> dict[str, str]:
    async with http.post(f"{url}/api/auth/token", json={"email": email, "password": password}) as r:
        if r.status != 200:
            raise BenchFailed(f"sign-in of {email} answered {r.status}: {await r.text()}")
        token = (await r.json())["access_token"]
    return {"Authorization": f"Bearer {token}"}


async def open_shop(
    http: aiohttp.ClientSession, url: str, admin_password: str, customers: int
) -> Shop:
    """Register and sign in the workload's customers (a few at a time, as people do)."""
    admin = await sign_in(http, url, ADMIN_EMAIL, admin_password)
    run = uuid.uuid4().hex[:8]
    gate = asyncio.Semaphore(SETUP_CONCURRENCY)

    async def customer(index: int) -> dict[str, str]:
        email = f"bench-{run}-{index}@example.com"
        body = {"email": email, "password": PASSWORD, "name": f"Bench customer {index}"}
        async with gate:
            async with http.post(f"{url}/api/auth/register", json=body) as answer:
                if answer.status != 201:
                    raise BenchFailed(f"registration answered {answer.status}")
            return await sign_in(http, url, email, PASSWORD)

    signed_in = await asyncio.gather(*(customer(i) for i in range(customers)))
    return Shop(http, url, admin, list(signed_in))


async def catalog_skus(shop: Shop) -> list[str]:
    status, body = await shop.json("GET", "/api/products", {})
    if status != 200:
        raise BenchFailed(f"GET /api/products answered {status}")
    return [item["sku"] for item in body["items"]]


async def stock_up(shop: Shop, stock: dict[str, int]) -> None:
    """Set each sku's stock as the plan says, and check it took."""
    for sku, on_hand in stock.items():
        path = f"/api/admin/inventory/{sku}"
        status, body = await shop.json("PUT", path, shop.admin, {"on_hand": on_hand})
        if status != 200 or body["available"] != on_hand:
            raise BenchFailed(f"PUT {path} answered {status}: {body}")
