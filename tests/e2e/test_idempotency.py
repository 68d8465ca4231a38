"""Idempotency-Key on POST /api/orders: replays create nothing new, even when concurrent."""

from __future__ import annotations

import asyncio
import uuid

import httpx

from .api import Customer, assert_problem, expect_json, poll_until
from .shop import (
    get_stock,
    list_orders,
    order_body,
    pick_products,
    post_order,
    set_stock,
    wait_order,
)


def replay_order_id(response: httpx.Response) -> str:
    """A replay answers success (the original 202, or 200) carrying the original order id."""
    assert response.status_code in {200, 202}, (response.status_code, response.text[:500])
    body = expect_json(response, response.status_code)
    return str(body["order_id"])


async def settled_orders(client: httpx.AsyncClient, customer: Customer, count: int) -> list[str]:
    """Wait until the customer's list shows at least ``count`` orders; return their ids."""
    items = await poll_until(
        lambda: list_orders(client, customer.headers),
        lambda items: len(items) >= count,
        what=f"{count} orders in the list",
    )
    return [str(item["order_id"]) for item in items]


async def test_sequential_replay_returns_same_order_and_creates_nothing(
    client: httpx.AsyncClient, admin: dict[str, str], customer: Customer
) -> None:
    [product] = await pick_products(client, 1)
    sku = product["sku"]
    await set_stock(client, admin, sku, 40)
    body = order_body([(sku, 3)], "pm_card_visa")
    key = str(uuid.uuid4())

    first = await post_order(client, customer, body, idempotency_key=key)
    order_id = str(expect_json(first, 202)["order_id"])
    await wait_order(client, order_id, customer.headers)
    replays = [await post_order(client, customer, body, idempotency_key=key) for _ in range(3)]

    assert [replay_order_id(replay) for replay in replays] == [order_id] * 3
    assert await settled_orders(client, customer, 1) == [order_id]
    await asyncio.sleep(0.3)
    assert [item["order_id"] for item in await list_orders(client, customer.headers)] == [order_id]
    stock = await get_stock(client, admin, sku)
    assert (stock["on_hand"], stock["reserved"]) == (37, 0)


async def test_same_key_with_different_body_is_refused(
    client: httpx.AsyncClient, admin: dict[str, str], customer: Customer
) -> None:
    """Reusing a key for another order is a client error, and it creates nothing."""
    [product] = await pick_products(client, 1)
    sku = product["sku"]
    await set_stock(client, admin, sku, 40)
    key = str(uuid.uuid4())
    first = await post_order(
        client, customer, order_body([(sku, 1)], "pm_card_visa"), idempotency_key=key
    )
    order_id = str(expect_json(first, 202)["order_id"])
    await wait_order(client, order_id, customer.headers)

    for different in (
        order_body([(sku, 2)], "pm_card_visa"),
        order_body([(sku, 1)], "pm_card_mastercard"),
    ):
        response = await post_order(client, customer, different, idempotency_key=key)
        assert response.status_code in {409, 422}, (response.status_code, response.text[:500])
        assert_problem(response, response.status_code)

    await asyncio.sleep(0.3)
    assert [item["order_id"] for item in await list_orders(client, customer.headers)] == [order_id]
    stock = await get_stock(client, admin, sku)
    assert (stock["on_hand"], stock["reserved"]) == (39, 0)


async def test_concurrent_replays_create_exactly_one_order(
    client: httpx.AsyncClient, admin: dict[str, str], customer: Customer
) -> None:
    """Ten simultaneous requests with one key race inside the system; only one may win."""
    [product] = await pick_products(client, 1)
    sku = product["sku"]
    await set_stock(client, admin, sku, 100)
    body = order_body([(sku, 2)], "pm_card_mastercard")
    key = str(uuid.uuid4())

    responses = await asyncio.gather(
        *(post_order(client, customer, body, idempotency_key=key) for _ in range(10))
    )

    successes = [response for response in responses if 200 <= response.status_code < 300]
    assert successes, [(r.status_code, r.text[:200]) for r in responses]
    for response in responses:
        if not 200 <= response.status_code < 300:
            assert_problem(response, 409)
    order_ids = {replay_order_id(response) for response in successes}
    assert len(order_ids) == 1, order_ids
    [order_id] = order_ids
    final = await wait_order(client, order_id, customer.headers)
    assert final["status"] == "APPROVED", final
    assert await settled_orders(client, customer, 1) == [order_id]
    await asyncio.sleep(0.3)
    assert [item["order_id"] for item in await list_orders(client, customer.headers)] == [order_id]
    stock = await get_stock(client, admin, sku)
    assert (stock["on_hand"], stock["reserved"]) == (98, 0)


async def test_key_is_scoped_to_the_customer(
    client: httpx.AsyncClient,
    admin: dict[str, str],
    customer: Customer,
    other_customer: Customer,
) -> None:
    """Another customer reusing a key never receives the first customer's order id."""
    [product] = await pick_products(client, 1)
    sku = product["sku"]
    await set_stock(client, admin, sku, 40)
    body = order_body([(sku, 1)], "pm_card_visa")
    key = str(uuid.uuid4())
    first = await post_order(client, customer, body, idempotency_key=key)
    order_id = str(expect_json(first, 202)["order_id"])
    await wait_order(client, order_id, customer.headers)

    response = await post_order(client, other_customer, body, idempotency_key=key)

    if 200 <= response.status_code < 300:
        other_id = replay_order_id(response)
        assert other_id != order_id
        await wait_order(client, other_id, other_customer.headers)
    else:
        assert_problem(response, response.status_code)
    assert order_id not in {
        item["order_id"] for item in await list_orders(client, other_customer.headers)
    }
