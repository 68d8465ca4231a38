"""Administration: inventory, payments, notifications, sagas, and who may call them."""

from __future__ import annotations

import uuid
from collections import Counter
from typing import Any

import httpx
import pytest

from .api import (
    INVENTORY_FIELDS,
    NOTIFICATION_FIELDS,
    PAYMENT_FIELDS,
    Customer,
    System,
    assert_problem,
    assert_timestamp,
    expect_json,
)
from .shop import get_stock, pick_products, place_and_wait, set_stock, wait_notifications

UNKNOWN_SKU = "NO-SUCH-SKU-E2E"


async def test_put_inventory_sets_on_hand(client: httpx.AsyncClient, admin: dict[str, str]) -> None:
    """PUT answers the full stock record and GET reads back the same values."""
    [product] = await pick_products(client, 1)
    sku = product["sku"]
    response = await client.put(f"/api/admin/inventory/{sku}", json={"on_hand": 12}, headers=admin)
    record = expect_json(response, 200)
    assert set(record) == INVENTORY_FIELDS, record
    assert record == {"sku": sku, "on_hand": 12, "reserved": 0, "available": 12}
    read = expect_json(await client.get(f"/api/admin/inventory/{sku}", headers=admin), 200)
    assert read == record


@pytest.mark.parametrize("on_hand", [0, 1_000_000])
async def test_put_inventory_accepts_the_limits(
    client: httpx.AsyncClient, admin: dict[str, str], on_hand: int
) -> None:
    [product] = await pick_products(client, 1)
    record = await set_stock(client, admin, product["sku"], on_hand)
    assert (record["on_hand"], record["available"]) == (on_hand, on_hand)
    await set_stock(client, admin, product["sku"], 100)


@pytest.mark.parametrize(
    "body",
    [
        {"on_hand": -1},
        {"on_hand": 1_000_001},
        {"on_hand": "ten"},
        {"on_hand": 2.5},
        {"on_hand": None},
        {},
    ],
    ids=["minus-1", "1000001", "string", "fraction", "null", "missing"],
)
async def test_put_inventory_rejects_invalid_body(
    client: httpx.AsyncClient, admin: dict[str, str], body: dict[str, Any]
) -> None:
    """An invalid stock update is refused with 422 and changes nothing."""
    [product] = await pick_products(client, 1)
    sku = product["sku"]
    await set_stock(client, admin, sku, 33)
    response = await client.put(f"/api/admin/inventory/{sku}", json=body, headers=admin)
    assert_problem(response, 422)
    assert (await get_stock(client, admin, sku))["on_hand"] == 33


async def test_put_inventory_cannot_assign_reserved(
    client: httpx.AsyncClient, admin: dict[str, str]
) -> None:
    """Only on_hand is writable: a smuggled ``reserved`` is refused or ignored, never stored."""
    [product] = await pick_products(client, 1)
    sku = product["sku"]
    await set_stock(client, admin, sku, 33)
    response = await client.put(
        f"/api/admin/inventory/{sku}", json={"on_hand": 40, "reserved": 7}, headers=admin
    )
    if response.status_code == 422:
        assert_problem(response, 422)
    else:
        expect_json(response, 200)
    record = await get_stock(client, admin, sku)
    assert record["reserved"] == 0, record
    assert record["available"] == record["on_hand"], record


async def test_inventory_of_unknown_sku_is_404(
    client: httpx.AsyncClient, admin: dict[str, str]
) -> None:
    assert_problem(await client.get(f"/api/admin/inventory/{UNKNOWN_SKU}", headers=admin), 404)
    response = await client.put(
        f"/api/admin/inventory/{UNKNOWN_SKU}", json={"on_hand": 5}, headers=admin
    )
    assert_problem(response, 404)
    assert_problem(await client.get(f"/api/products/{UNKNOWN_SKU}"), 404)


async def test_available_is_on_hand_minus_reserved_after_orders(
    client: httpx.AsyncClient, admin: dict[str, str], customer: Customer
) -> None:
    """Once an order is final nothing stays reserved and approved units left on_hand."""
    [product] = await pick_products(client, 1)
    sku = product["sku"]
    await set_stock(client, admin, sku, 9)
    order = await place_and_wait(client, customer, [(sku, 4)], "pm_card_visa")
    assert order["status"] == "APPROVED", order
    record = await get_stock(client, admin, sku)
    assert record == {"sku": sku, "on_hand": 5, "reserved": 0, "available": 5}


async def test_payment_of_approved_order(
    client: httpx.AsyncClient, admin: dict[str, str], customer: Customer
) -> None:
    [product] = await pick_products(client, 1)
    await set_stock(client, admin, product["sku"], 10)
    order = await place_and_wait(client, customer, [(product["sku"], 3)], "pm_card_mastercard")
    assert order["status"] == "APPROVED", order

    response = await client.get(
        "/api/admin/payments", params={"order_id": order["order_id"]}, headers=admin
    )

    payment = expect_json(response, 200)
    assert set(payment) == PAYMENT_FIELDS, payment
    assert payment["order_id"] == order["order_id"]
    assert payment["charged_cents"] == order["total_cents"] == 3 * product["price_cents"]
    assert payment["refunded_cents"] == 0
    assert isinstance(payment["status"], str), payment
    assert payment["status"], payment


async def test_payment_of_unknown_order_is_404(
    client: httpx.AsyncClient, admin: dict[str, str]
) -> None:
    response = await client.get(
        "/api/admin/payments", params={"order_id": str(uuid.uuid4())}, headers=admin
    )
    assert_problem(response, 404)


async def test_notifications_of_approved_order(
    client: httpx.AsyncClient, admin: dict[str, str], customer: Customer
) -> None:
    """The customer is notified once of the approval, with a timestamp."""
    [product] = await pick_products(client, 1)
    await set_stock(client, admin, product["sku"], 10)
    order = await place_and_wait(client, customer, [(product["sku"], 1)], "pm_card_visa")
    assert order["status"] == "APPROVED", order

    items = await wait_notifications(
        client, admin, order["order_id"], Counter({"ORDER_APPROVED": 1})
    )

    assert len(items) == 1, items
    [note] = items
    assert set(note) == NOTIFICATION_FIELDS, note
    assert note["kind"] == "ORDER_APPROVED"
    assert note["order_id"] == order["order_id"]
    assert isinstance(note["recipient"], str), note
    assert note["recipient"], note
    assert_timestamp(note["sent_at"])


async def test_notifications_of_unrelated_order_are_empty(
    client: httpx.AsyncClient, admin: dict[str, str]
) -> None:
    response = await client.get(
        "/api/admin/notifications", params={"order_id": str(uuid.uuid4())}, headers=admin
    )
    assert expect_json(response, 200) == {"items": []}


async def test_saga_endpoint_matches_the_mode(
    system: System, client: httpx.AsyncClient, admin: dict[str, str], customer: Customer
) -> None:
    """Monolith modes keep no saga (404 problem); distributed modes expose its steps."""
    [product] = await pick_products(client, 1)
    await set_stock(client, admin, product["sku"], 10)
    order = await place_and_wait(client, customer, [(product["sku"], 1)], "pm_card_visa")

    response = await client.get(f"/api/admin/sagas/{order['order_id']}", headers=admin)

    if not system.mode.has_saga:
        assert_problem(response, 404)
        return
    saga = expect_json(response, 200)
    assert set(saga) == {"order_id", "state", "steps"}, saga
    assert saga["order_id"] == order["order_id"]
    assert saga["steps"], saga
    for step in saga["steps"]:
        assert set(step) == {"name", "status", "at"}, step
        assert_timestamp(step["at"])


ADMIN_ROUTES: list[tuple[str, str, dict[str, Any] | None]] = [
    ("PUT", "/api/admin/inventory/{sku}", {"on_hand": 0}),
    ("GET", "/api/admin/inventory/{sku}", None),
    ("GET", "/api/admin/payments?order_id={order_id}", None),
    ("GET", "/api/admin/notifications?order_id={order_id}", None),
    ("GET", "/api/admin/sagas/{order_id}", None),
]
ADMIN_ROUTE_IDS = ["put-inventory", "get-inventory", "payments", "notifications", "sagas"]


@pytest.mark.parametrize(("method", "template", "body"), ADMIN_ROUTES, ids=ADMIN_ROUTE_IDS)
async def test_customer_token_on_admin_route_is_403(
    client: httpx.AsyncClient,
    admin: dict[str, str],
    customer: Customer,
    method: str,
    template: str,
    body: dict[str, Any] | None,
) -> None:
    """A valid customer token is authenticated but not authorised: 403, and nothing changes."""
    [product] = await pick_products(client, 1)
    await set_stock(client, admin, product["sku"], 21)
    url = template.format(sku=product["sku"], order_id=uuid.uuid4())
    response = await client.request(method, url, json=body, headers=customer.headers)
    assert_problem(response, 403)
    assert (await get_stock(client, admin, product["sku"]))["on_hand"] == 21


@pytest.mark.parametrize(("method", "template", "body"), ADMIN_ROUTES, ids=ADMIN_ROUTE_IDS)
async def test_admin_route_without_token_is_401(
    client: httpx.AsyncClient,
    admin: dict[str, str],
    method: str,
    template: str,
    body: dict[str, Any] | None,
) -> None:
    [product] = await pick_products(client, 1)
    await set_stock(client, admin, product["sku"], 22)
    url = template.format(sku=product["sku"], order_id=uuid.uuid4())
    assert_problem(await client.request(method, url, json=body), 401)
    assert (await get_stock(client, admin, product["sku"]))["on_hand"] == 22
