"""Catalog: the public product list and product pages."""

from __future__ import annotations

import asyncio
import uuid

import httpx

from .api import assert_problem, expect_json
from .shop import list_products, pick_products, set_stock

LIST_FIELDS = {"sku", "name", "price_cents", "currency"}
PAGE_FIELDS = {"sku", "name", "description", "price_cents", "currency", "available"}


async def test_product_list_has_twenty_items_with_exact_fields(client: httpx.AsyncClient) -> None:
    """A fresh start is seeded with at least 20 products, each exactly as the contract says."""
    body = expect_json(await client.get("/api/products"), 200)
    assert set(body) == {"items"}
    items = body["items"]
    assert len(items) >= 20
    for item in items:
        assert set(item) == LIST_FIELDS, item
        assert isinstance(item["sku"], str), item
        assert item["sku"], item
        assert isinstance(item["name"], str), item
        assert item["name"], item
        assert isinstance(item["price_cents"], int), item
        assert item["price_cents"] > 0, item
        assert isinstance(item["currency"], str), item
        assert len(item["currency"]) == 3, item
        assert item["currency"].isupper(), item
    skus = [item["sku"] for item in items]
    assert len(skus) == len(set(skus)), "duplicate skus in the catalog"


async def test_product_pages_match_the_list(client: httpx.AsyncClient) -> None:
    """Each product page has the exact field set and agrees with the list on shared fields."""
    products = await list_products(client)
    responses = await asyncio.gather(
        *(client.get(f"/api/products/{product['sku']}") for product in products)
    )
    for product, response in zip(products, responses, strict=True):
        page = expect_json(response, 200)
        assert set(page) == PAGE_FIELDS, page
        for key in LIST_FIELDS:
            assert page[key] == product[key], (key, page, product)
        assert isinstance(page["description"], str), page
        assert isinstance(page["available"], int), page
        assert page["available"] >= 0, page


async def test_available_follows_admin_stock_changes(
    client: httpx.AsyncClient, admin: dict[str, str]
) -> None:
    """``available`` on the public page is the live stock the administrator sets."""
    [product] = await pick_products(client, 1)
    sku = product["sku"]
    for on_hand in (7, 0, 1234):
        await set_stock(client, admin, sku, on_hand)
        page = expect_json(await client.get(f"/api/products/{sku}"), 200)
        assert page["available"] == on_hand


async def test_unknown_sku_is_404_problem(client: httpx.AsyncClient) -> None:
    response = await client.get(f"/api/products/NO-SUCH-{uuid.uuid4().hex[:8].upper()}")
    assert_problem(response, 404)
