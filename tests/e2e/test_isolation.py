"""Isolation: a customer never sees another's order; without a token nobody sees any."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import pytest

from .api import Customer, assert_problem, expect_json
from .shop import (
    get_order,
    get_stock,
    list_orders,
    order_body,
    pick_products,
    place_and_wait,
    set_stock,
)


@pytest.fixture
async def approved_order(
    client: httpx.AsyncClient, admin: dict[str, str], customer: Customer
) -> dict[str, Any]:
    """An APPROVED order of ``customer`` (the order other callers must not reach)."""
    [product] = await pick_products(client, 1)
    await set_stock(client, admin, product["sku"], 20)
    order = await place_and_wait(client, customer, [(product["sku"], 1)], "pm_card_visa")
    assert order["status"] == "APPROVED", order
    return order


@pytest.mark.parametrize(("method", "suffix"), [("GET", ""), ("GET", "/details")])
async def test_other_customer_cannot_read_the_order(
    client: httpx.AsyncClient,
    other_customer: Customer,
    approved_order: dict[str, Any],
    method: str,
    suffix: str,
) -> None:
    """Someone else's order answers 404, exactly like an order that does not exist."""
    order_id = approved_order["order_id"]
    response = await client.request(
        method, f"/api/orders/{order_id}{suffix}", headers=other_customer.headers
    )
    assert_problem(response, 404)


async def test_other_customer_cannot_cancel_the_order(
    client: httpx.AsyncClient,
    admin: dict[str, str],
    customer: Customer,
    other_customer: Customer,
    approved_order: dict[str, Any],
) -> None:
    order_id = str(approved_order["order_id"])
    sku = str(approved_order["items"][0]["sku"])
    stock_before = await get_stock(client, admin, sku)

    response = await client.post(f"/api/orders/{order_id}/cancel", headers=other_customer.headers)

    assert_problem(response, 404)
    order = await get_order(client, order_id, customer.headers)
    assert (order["status"], order["reason"]) == ("APPROVED", None)
    assert await get_stock(client, admin, sku) == stock_before


async def test_other_customer_list_does_not_contain_the_order(
    client: httpx.AsyncClient, other_customer: Customer, approved_order: dict[str, Any]
) -> None:
    assert approved_order["order_id"] not in {
        item["order_id"] for item in await list_orders(client, other_customer.headers)
    }


async def test_admin_may_read_any_order(
    client: httpx.AsyncClient,
    admin: dict[str, str],
    customer: Customer,
    approved_order: dict[str, Any],
) -> None:
    order_id = approved_order["order_id"]
    as_admin = expect_json(await client.get(f"/api/orders/{order_id}", headers=admin), 200)
    assert as_admin == await get_order(client, str(order_id), customer.headers)
    assert as_admin["customer_id"] == customer.customer_id


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/api/orders"),
        ("POST", "/api/orders"),
        ("GET", "/api/orders/{order_id}"),
        ("GET", "/api/orders/{order_id}/details"),
        ("POST", "/api/orders/{order_id}/cancel"),
    ],
)
async def test_orders_routes_need_a_token(
    client: httpx.AsyncClient,
    admin: dict[str, str],
    customer: Customer,
    approved_order: dict[str, Any],
    method: str,
    path: str,
) -> None:
    """Without a token every orders route is 401, whether or not the order exists."""
    sku = str(approved_order["items"][0]["sku"])
    stock_before = await get_stock(client, admin, sku)
    body = order_body([(sku, 1)], "pm_card_visa") if method == "POST" else None
    for order_id in (approved_order["order_id"], uuid.uuid4()):
        url = path.format(order_id=order_id)
        response = await client.request(method, url, json=body)
        assert_problem(response, 401)
    order = await get_order(client, str(approved_order["order_id"]), customer.headers)
    assert order["status"] == "APPROVED"
    assert await get_stock(client, admin, sku) == stock_before
