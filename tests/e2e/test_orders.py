"""Orders: placement outcomes per test card, stock, money, notifications, listing, cancel."""

from __future__ import annotations

import asyncio
import uuid
from collections import Counter
from typing import Any

import httpx
import pytest

from .api import (
    CHARGING_CARDS,
    DECLINED_CARD,
    INSUFFICIENT_CARD,
    ORDER_FIELDS,
    ORDER_ITEM_FIELDS,
    PAYMENT_FIELDS,
    Customer,
    assert_problem,
    assert_timestamp,
    expect_json,
    poll_until,
)
from .shop import (
    cancel_and_wait,
    check_accepted,
    expected_total,
    get_order,
    get_payment,
    get_stock,
    kinds,
    list_orders,
    order_body,
    pick_products,
    place_and_wait,
    post_order,
    set_stock,
    wait_notifications,
    wait_order,
)


def assert_order_shape(
    order: dict[str, Any],
    customer: Customer,
    lines: list[tuple[str, int]],
    products: list[dict[str, Any]],
) -> None:
    """The full order document: fields, lines priced from the catalog, total and currency."""
    assert set(order) == ORDER_FIELDS, order
    assert order["customer_id"] == customer.customer_id
    prices = {product["sku"]: int(product["price_cents"]) for product in products}
    currencies = {product["currency"] for product in products}
    assert len(order["items"]) == len(lines)
    by_sku = {item["sku"]: item for item in order["items"]}
    for sku, quantity in lines:
        item = by_sku[sku]
        assert set(item) == ORDER_ITEM_FIELDS, item
        assert item["quantity"] == quantity, item
        assert item["unit_price_cents"] == prices[sku], (item, prices[sku])
    assert order["total_cents"] == expected_total(lines, prices)
    if len(currencies) == 1:
        assert order["currency"] == currencies.pop()
    created = assert_timestamp(order["created_at"])
    updated = assert_timestamp(order["updated_at"])
    assert updated >= created


async def stock_levels(
    client: httpx.AsyncClient, admin: dict[str, str], skus: list[str]
) -> dict[str, tuple[int, int]]:
    records = await asyncio.gather(*(get_stock(client, admin, sku) for sku in skus))
    return {record["sku"]: (record["on_hand"], record["reserved"]) for record in records}


@pytest.mark.parametrize("card", CHARGING_CARDS)
async def test_charging_card_approves_order(
    client: httpx.AsyncClient, admin: dict[str, str], customer: Customer, card: str
) -> None:
    """A charged order is APPROVED, takes its stock for good and is charged its total once."""
    products = await pick_products(client, 2)
    (sku_a, sku_b) = (products[0]["sku"], products[1]["sku"])
    await set_stock(client, admin, sku_a, 50)
    await set_stock(client, admin, sku_b, 50)
    lines = [(sku_a, 2), (sku_b, 1)]

    order = await place_and_wait(client, customer, lines, card)

    assert order["status"] == "APPROVED", order
    assert order["reason"] is None
    assert_order_shape(order, customer, lines, products)
    assert await stock_levels(client, admin, [sku_a, sku_b]) == {sku_a: (48, 0), sku_b: (49, 0)}
    page = expect_json(await client.get(f"/api/products/{sku_a}"), 200)
    assert page["available"] == 48
    payment = await get_payment(client, admin, order["order_id"])
    assert payment is not None
    assert set(payment) == PAYMENT_FIELDS, payment
    assert payment["order_id"] == order["order_id"]
    assert payment["charged_cents"] == order["total_cents"]
    assert payment["refunded_cents"] == 0
    notes = await wait_notifications(
        client, admin, order["order_id"], Counter({"ORDER_APPROVED": 1})
    )
    assert kinds(notes) == Counter({"ORDER_APPROVED": 1})


@pytest.mark.parametrize(
    ("card", "reason"),
    [(DECLINED_CARD, "PAYMENT_DECLINED"), (INSUFFICIENT_CARD, "INSUFFICIENT_FUNDS")],
)
async def test_refused_card_rejects_order(
    client: httpx.AsyncClient,
    admin: dict[str, str],
    customer: Customer,
    card: str,
    reason: str,
) -> None:
    """A refused card ends REJECTED with the card's reason, no stock taken and no money kept."""
    products = await pick_products(client, 2)
    skus = [product["sku"] for product in products]
    for sku in skus:
        await set_stock(client, admin, sku, 20)
    lines = [(skus[0], 3), (skus[1], 1)]

    order = await place_and_wait(client, customer, lines, card)

    assert order["status"] == "REJECTED", order
    assert order["reason"] == reason
    assert_order_shape(order, customer, lines, products)
    assert await stock_levels(client, admin, skus) == {skus[0]: (20, 0), skus[1]: (20, 0)}
    payment = await get_payment(client, admin, order["order_id"])
    if payment is not None:
        assert payment["charged_cents"] - payment["refunded_cents"] == 0, payment
    notes = await wait_notifications(
        client, admin, order["order_id"], Counter({"ORDER_REJECTED": 1})
    )
    assert kinds(notes) == Counter({"ORDER_REJECTED": 1})


async def test_order_beyond_stock_is_rejected_out_of_stock(
    client: httpx.AsyncClient, admin: dict[str, str], customer: Customer
) -> None:
    [product] = await pick_products(client, 1)
    sku = product["sku"]
    await set_stock(client, admin, sku, 1)

    order = await place_and_wait(client, customer, [(sku, 2)], "pm_card_visa")

    assert order["status"] == "REJECTED", order
    assert order["reason"] == "OUT_OF_STOCK"
    assert await stock_levels(client, admin, [sku]) == {sku: (1, 0)}
    payment = await get_payment(client, admin, order["order_id"])
    if payment is not None:
        assert payment["charged_cents"] - payment["refunded_cents"] == 0, payment
    notes = await wait_notifications(
        client, admin, order["order_id"], Counter({"ORDER_REJECTED": 1})
    )
    assert kinds(notes) == Counter({"ORDER_REJECTED": 1})


async def test_one_short_line_rejects_the_whole_order(
    client: httpx.AsyncClient, admin: dict[str, str], customer: Customer
) -> None:
    """Stock is reserved all-or-nothing: the lines that were available keep their stock."""
    products = await pick_products(client, 3)
    skus = [product["sku"] for product in products]
    await set_stock(client, admin, skus[0], 100)
    await set_stock(client, admin, skus[1], 100)
    await set_stock(client, admin, skus[2], 0)

    order = await place_and_wait(
        client, customer, [(skus[0], 5), (skus[1], 5), (skus[2], 1)], "pm_card_visa"
    )

    assert order["status"] == "REJECTED", order
    assert order["reason"] == "OUT_OF_STOCK"
    assert await stock_levels(client, admin, skus) == {
        skus[0]: (100, 0),
        skus[1]: (100, 0),
        skus[2]: (0, 0),
    }


async def test_last_units_can_be_bought_then_stock_runs_out(
    client: httpx.AsyncClient, admin: dict[str, str], customer: Customer
) -> None:
    """Ordering exactly what is on hand succeeds; the next unit is out of stock."""
    [product] = await pick_products(client, 1)
    sku = product["sku"]
    await set_stock(client, admin, sku, 3)

    first = await place_and_wait(client, customer, [(sku, 3)], "pm_card_mastercard")
    second = await place_and_wait(client, customer, [(sku, 1)], "pm_card_visa")

    assert first["status"] == "APPROVED", first
    assert (second["status"], second["reason"]) == ("REJECTED", "OUT_OF_STOCK"), second
    assert await stock_levels(client, admin, [sku]) == {sku: (0, 0)}


async def test_list_shows_own_orders_newest_first(
    client: httpx.AsyncClient, admin: dict[str, str], customer: Customer
) -> None:
    """The caller's list holds exactly its orders, newest first (it may lag, so poll)."""
    products = await pick_products(client, 2)
    for product in products:
        await set_stock(client, admin, product["sku"], 100)
    placed: list[dict[str, Any]] = []
    for card in ("pm_card_visa", DECLINED_CARD, "pm_card_mastercard"):
        order = await place_and_wait(
            client, customer, [(products[0]["sku"], 1), (products[1]["sku"], 1)], card
        )
        placed.append(order)
        await asyncio.sleep(0.02)
    expected = [(order["order_id"], order["status"]) for order in reversed(placed)]

    items = await poll_until(
        lambda: list_orders(client, customer.headers),
        lambda items: [(item.get("order_id"), item.get("status")) for item in items] == expected,
        what=f"the order list to show {expected}",
    )

    by_id = {order["order_id"]: order for order in placed}
    for item in items:
        for key in set(item) & (ORDER_FIELDS - {"updated_at"}):
            assert item[key] == by_id[item["order_id"]][key], (key, item)


async def test_new_customer_has_empty_order_list(
    client: httpx.AsyncClient, customer: Customer
) -> None:
    assert await list_orders(client, customer.headers) == []


async def test_cancel_approved_order_restores_stock_and_refunds(
    client: httpx.AsyncClient, admin: dict[str, str], customer: Customer
) -> None:
    """Cancelling gives the stock back, refunds the full charge and notifies the customer."""
    products = await pick_products(client, 2)
    skus = [product["sku"] for product in products]
    await set_stock(client, admin, skus[0], 30)
    await set_stock(client, admin, skus[1], 30)
    order = await place_and_wait(client, customer, [(skus[0], 4), (skus[1], 2)], "pm_card_visa")
    assert order["status"] == "APPROVED", order
    assert await stock_levels(client, admin, skus) == {skus[0]: (26, 0), skus[1]: (28, 0)}

    cancelled = await cancel_and_wait(client, customer, order["order_id"])

    assert cancelled["reason"] == "CANCELLED_BY_CUSTOMER"
    assert cancelled["total_cents"] == order["total_cents"]
    assert cancelled["items"] == order["items"]
    assert await stock_levels(client, admin, skus) == {skus[0]: (30, 0), skus[1]: (30, 0)}
    payment = await poll_until(
        lambda: get_payment(client, admin, order["order_id"]),
        lambda payment: payment is not None and payment["refunded_cents"] > 0,
        what="the refund of the cancelled order",
    )
    assert payment is not None
    assert payment["charged_cents"] == order["total_cents"]
    assert payment["refunded_cents"] == order["total_cents"]
    notes = await wait_notifications(
        client, admin, order["order_id"], Counter({"ORDER_APPROVED": 1, "ORDER_CANCELLED": 1})
    )
    assert kinds(notes) == Counter({"ORDER_APPROVED": 1, "ORDER_CANCELLED": 1})


async def test_cancel_rejected_order_is_409(
    client: httpx.AsyncClient, admin: dict[str, str], customer: Customer
) -> None:
    [product] = await pick_products(client, 1)
    await set_stock(client, admin, product["sku"], 10)
    order = await place_and_wait(client, customer, [(product["sku"], 1)], DECLINED_CARD)
    assert order["status"] == "REJECTED", order

    response = await client.post(
        f"/api/orders/{order['order_id']}/cancel", headers=customer.headers
    )

    assert_problem(response, 409)
    after = await get_order(client, order["order_id"], customer.headers)
    assert (after["status"], after["reason"]) == ("REJECTED", "PAYMENT_DECLINED")


async def test_cancel_twice_is_409_and_refunds_once(
    client: httpx.AsyncClient, admin: dict[str, str], customer: Customer
) -> None:
    """A second cancel is refused and neither stock nor money moves twice."""
    [product] = await pick_products(client, 1)
    sku = product["sku"]
    await set_stock(client, admin, sku, 10)
    order = await place_and_wait(client, customer, [(sku, 2)], "pm_card_mastercard")
    assert order["status"] == "APPROVED", order
    await cancel_and_wait(client, customer, order["order_id"])

    response = await client.post(
        f"/api/orders/{order['order_id']}/cancel", headers=customer.headers
    )

    assert_problem(response, 409)
    assert await stock_levels(client, admin, [sku]) == {sku: (10, 0)}
    payment = await get_payment(client, admin, order["order_id"])
    assert payment is not None
    assert payment["refunded_cents"] == payment["charged_cents"] == order["total_cents"]
    expected = Counter({"ORDER_APPROVED": 1, "ORDER_CANCELLED": 1})
    notes = await wait_notifications(client, admin, order["order_id"], expected)
    assert kinds(notes) == expected


async def test_details_compose_order_payment_and_notifications(
    client: httpx.AsyncClient, admin: dict[str, str], customer: Customer
) -> None:
    """The details view joins the three owners' data and reports nothing degraded."""
    [product] = await pick_products(client, 1)
    await set_stock(client, admin, product["sku"], 10)
    order = await place_and_wait(client, customer, [(product["sku"], 2)], "pm_card_visa")
    assert order["status"] == "APPROVED", order
    await wait_notifications(client, admin, order["order_id"], Counter({"ORDER_APPROVED": 1}))

    response = await client.get(
        f"/api/orders/{order['order_id']}/details", headers=customer.headers
    )

    details = expect_json(response, 200)
    assert set(details) == {"order", "payment", "notifications", "degraded"}, details
    assert details["degraded"] == []
    assert details["order"] == await get_order(client, order["order_id"], customer.headers)
    payment = details["payment"]
    assert isinstance(payment, dict), details
    assert payment["charged_cents"] == order["total_cents"], payment
    assert payment["refunded_cents"] == 0, payment
    assert isinstance(details["notifications"], list), details
    assert [note["kind"] for note in details["notifications"]] == ["ORDER_APPROVED"]


async def test_details_of_rejected_order_are_not_degraded(
    client: httpx.AsyncClient, admin: dict[str, str], customer: Customer
) -> None:
    """A missing payment (nothing was charged) is normal, not a degraded part."""
    [product] = await pick_products(client, 1)
    await set_stock(client, admin, product["sku"], 0)
    order = await place_and_wait(client, customer, [(product["sku"], 1)], "pm_card_visa")
    assert order["reason"] == "OUT_OF_STOCK", order

    response = await client.get(
        f"/api/orders/{order['order_id']}/details", headers=customer.headers
    )

    details = expect_json(response, 200)
    assert set(details) == {"order", "payment", "notifications", "degraded"}, details
    assert details["degraded"] == []
    assert details["order"]["status"] == "REJECTED"


@pytest.mark.parametrize(
    ("method", "suffix"), [("GET", ""), ("GET", "/details"), ("POST", "/cancel")]
)
async def test_unknown_order_is_404_problem(
    client: httpx.AsyncClient, customer: Customer, method: str, suffix: str
) -> None:
    response = await client.request(
        method, f"/api/orders/{uuid.uuid4()}{suffix}", headers=customer.headers
    )
    assert_problem(response, 404)


async def test_placement_answer_points_at_the_order(
    client: httpx.AsyncClient, admin: dict[str, str], customer: Customer
) -> None:
    """The Location header of a placement can be followed to the new order."""
    [product] = await pick_products(client, 1)
    await set_stock(client, admin, product["sku"], 5)
    response = await post_order(client, customer, order_body([(product["sku"], 1)], "pm_card_visa"))
    order_id = check_accepted(response)

    followed = await client.get(response.headers["location"], headers=customer.headers)

    order = expect_json(followed, 200)
    assert order["order_id"] == order_id
    assert order["status"] in {"PENDING", "APPROVED"}, order
    final = await wait_order(client, order_id, customer.headers)
    assert final["status"] == "APPROVED", final
