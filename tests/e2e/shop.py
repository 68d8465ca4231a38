"""Shop helpers over HTTP: orders, products, stock, payments and notifications."""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Iterable
from typing import Any

import httpx

from .api import (
    SETTLE_TIMEOUT_S,
    STATUSES,
    Customer,
    assert_problem,
    expect_json,
    poll_until,
)


async def get_order(
    client: httpx.AsyncClient, order_id: str, headers: dict[str, str]
) -> dict[str, Any]:
    body: dict[str, Any] = expect_json(
        await client.get(f"/api/orders/{order_id}", headers=headers), 200
    )
    return body


async def wait_order(
    client: httpx.AsyncClient,
    order_id: str,
    headers: dict[str, str],
    statuses: Iterable[str] = ("APPROVED", "REJECTED"),
    within: float = SETTLE_TIMEOUT_S,
) -> dict[str, Any]:
    """Poll an order until its status is one of ``statuses``."""
    wanted = set(statuses)
    return await poll_until(
        lambda: get_order(client, order_id, headers),
        lambda order: order["status"] in wanted,
        what=f"order {order_id} to reach {sorted(wanted)}",
        within=within,
    )


def order_body(items: Iterable[tuple[str, int]], payment_method: str) -> dict[str, Any]:
    return {
        "items": [{"sku": sku, "quantity": quantity} for sku, quantity in items],
        "payment_method": payment_method,
    }


async def post_order(
    client: httpx.AsyncClient,
    customer: Customer,
    body: Any,
    idempotency_key: str | None = None,
) -> httpx.Response:
    headers = dict(customer.headers)
    if idempotency_key is not None:
        headers["Idempotency-Key"] = idempotency_key
    return await client.post("/api/orders", json=body, headers=headers)


async def place_order(
    client: httpx.AsyncClient,
    customer: Customer,
    items: Iterable[tuple[str, int]],
    payment_method: str,
) -> str:
    """Place an order, check the 202 answer, and return the new order id."""
    response = await post_order(client, customer, order_body(items, payment_method))
    return check_accepted(response)


def check_accepted(response: httpx.Response) -> str:
    """Assert the placement answer of the contract and return the order id."""
    body = expect_json(response, 202)
    assert set(body) == {"order_id", "status"}, body
    assert body["status"] in STATUSES, body
    order_id = str(body["order_id"])
    location = response.headers.get("location")
    assert location is not None, f"no Location header: {dict(response.headers)}"
    assert httpx.URL(location).path == f"/api/orders/{order_id}", location
    return order_id


async def place_and_wait(
    client: httpx.AsyncClient,
    customer: Customer,
    items: Iterable[tuple[str, int]],
    payment_method: str,
) -> dict[str, Any]:
    order_id = await place_order(client, customer, items, payment_method)
    return await wait_order(client, order_id, customer.headers)


async def cancel_and_wait(
    client: httpx.AsyncClient, customer: Customer, order_id: str
) -> dict[str, Any]:
    response = await client.post(f"/api/orders/{order_id}/cancel", headers=customer.headers)
    body = expect_json(response, 202)
    assert set(body) == {"order_id", "status"}, body
    assert str(body["order_id"]) == order_id, body
    return await wait_order(client, order_id, customer.headers, statuses=("CANCELLED",))


async def list_orders(client: httpx.AsyncClient, headers: dict[str, str]) -> list[dict[str, Any]]:
    body = expect_json(await client.get("/api/orders", headers=headers), 200)
    assert set(body) == {"items"}, body
    items: list[dict[str, Any]] = body["items"]
    assert isinstance(items, list), body
    return items


async def list_products(client: httpx.AsyncClient) -> list[dict[str, Any]]:
    body = expect_json(await client.get("/api/products"), 200)
    items: list[dict[str, Any]] = body["items"]
    return items


async def pick_products(client: httpx.AsyncClient, count: int) -> list[dict[str, Any]]:
    """A random sample of distinct catalog products, so tests spread over the catalog."""
    products = await list_products(client)
    assert len(products) >= count, f"need {count} products, catalog has {len(products)}"
    return random.sample(products, count)


async def set_stock(
    client: httpx.AsyncClient, admin: dict[str, str], sku: str, on_hand: int
) -> dict[str, Any]:
    response = await client.put(
        f"/api/admin/inventory/{sku}", json={"on_hand": on_hand}, headers=admin
    )
    body: dict[str, Any] = expect_json(response, 200)
    return body


async def get_stock(client: httpx.AsyncClient, admin: dict[str, str], sku: str) -> dict[str, Any]:
    body: dict[str, Any] = expect_json(
        await client.get(f"/api/admin/inventory/{sku}", headers=admin), 200
    )
    return body


async def get_payment(
    client: httpx.AsyncClient, admin: dict[str, str], order_id: str
) -> dict[str, Any] | None:
    """The payment record of an order, or None when the system has none (404)."""
    response = await client.get("/api/admin/payments", params={"order_id": order_id}, headers=admin)
    if response.status_code == 404:
        assert_problem(response, 404)
        return None
    body: dict[str, Any] = expect_json(response, 200)
    return body


async def get_notifications(
    client: httpx.AsyncClient, admin: dict[str, str], order_id: str
) -> list[dict[str, Any]]:
    response = await client.get(
        "/api/admin/notifications", params={"order_id": order_id}, headers=admin
    )
    body = expect_json(response, 200)
    items: list[dict[str, Any]] = body["items"]
    assert isinstance(items, list), body
    return items


def kinds(notifications: list[dict[str, Any]]) -> Counter[str]:
    return Counter(str(item["kind"]) for item in notifications)


async def wait_notifications(
    client: httpx.AsyncClient,
    admin: dict[str, str],
    order_id: str,
    expected: Counter[str],
) -> list[dict[str, Any]]:
    """Poll until at least the ``expected`` notification kinds exist for an order."""
    return await poll_until(
        lambda: get_notifications(client, admin, order_id),
        lambda items: all(kinds(items)[kind] >= n for kind, n in expected.items()),
        what=f"notifications {dict(expected)} of order {order_id}",
    )


def expected_total(items: Iterable[tuple[str, int]], prices: dict[str, int]) -> int:
    return sum(prices[sku] * quantity for sku, quantity in items)
