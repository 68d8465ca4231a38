"""Bad input on POST /api/orders: every invalid placement is refused and creates nothing.

Input is refused at the edge, before any database or broker: the modes that vary only
behind it (PostgreSQL, RabbitMQ, choreography, scaled) add nothing here, so the module runs
against the monolith and the microservices (``lifecycle_only``).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from .api import Customer, assert_problem
from .shop import (
    check_accepted,
    get_stock,
    list_orders,
    list_products,
    order_body,
    set_stock,
    wait_order,
)

pytestmark = pytest.mark.lifecycle_only

BodyFactory = Callable[[list[str]], Any]


def _order(skus: list[str], **extra: Any) -> dict[str, Any]:
    body = order_body([(skus[0], 1)], "pm_card_visa")
    body.update(extra)
    return body


def _line(sku: str, **fields: Any) -> dict[str, Any]:
    return {"sku": sku, "quantity": 1, **fields}


def _with_item(item: dict[str, Any]) -> dict[str, Any]:
    return {"items": [item], "payment_method": "pm_card_visa"}


BAD_BODIES: dict[str, BodyFactory] = {
    "quantity-string": lambda s: _with_item(_line(s[0], quantity="2")),
    "quantity-0": lambda s: _with_item(_line(s[0], quantity=0)),
    "quantity-101": lambda s: _with_item(_line(s[0], quantity=101)),
    "quantity-negative": lambda s: _with_item(_line(s[0], quantity=-1)),
    "quantity-fraction": lambda s: _with_item(_line(s[0], quantity=1.5)),
    "quantity-null": lambda s: _with_item(_line(s[0], quantity=None)),
    "quantity-missing": lambda s: _with_item({"sku": s[0]}),
    "sku-number": lambda s: _with_item({"sku": 5, "quantity": 1}),
    "sku-missing": lambda s: _with_item({"quantity": 1}),
    "items-object": lambda s: {"items": _line(s[0]), "payment_method": "pm_card_visa"},
    "items-string": lambda s: {"items": s[0], "payment_method": "pm_card_visa"},
    "items-missing": lambda s: {"payment_method": "pm_card_visa"},
    "items-null": lambda s: {"items": None, "payment_method": "pm_card_visa"},
    "no-lines": lambda s: {"items": [], "payment_method": "pm_card_visa"},
    "21-lines": lambda s: {
        "items": [_line(s[i % len(s)]) for i in range(21)],
        "payment_method": "pm_card_visa",
    },
    "duplicate-skus": lambda s: {
        "items": [_line(s[0]), _line(s[1]), _line(s[0], quantity=2)],
        "payment_method": "pm_card_visa",
    },
    "unknown-sku": lambda s: {
        "items": [_line(s[0]), _line("NO-SUCH-SKU-E2E")],
        "payment_method": "pm_card_visa",
    },
    "unknown-payment-method": lambda s: order_body([(s[0], 1)], "pm_card_bogus"),
    "empty-payment-method": lambda s: order_body([(s[0], 1)], ""),
    "payment-method-missing": lambda s: {"items": [_line(s[0])]},
    "payment-method-number": lambda s: _order(s, payment_method=42),
    "unknown-top-field": lambda s: _order(s, coupon="FREE"),
    "unknown-item-field": lambda s: _with_item(_line(s[0], discount_percent=50)),
    "status-field": lambda s: _order(s, status="APPROVED"),
    "total-cents-field": lambda s: _order(s, total_cents=1),
    "customer-id-field": lambda s: _order(s, customer_id="someone-else"),
    "order-id-field": lambda s: _order(s, order_id="chosen-by-client"),
    "unit-price-field": lambda s: _with_item(_line(s[0], unit_price_cents=1)),
    "role-field": lambda s: _order(s, role="admin"),
    "reason-field": lambda s: _order(s, reason=None),
    "body-array": lambda s: [_order(s)],
    "body-string": lambda s: "pm_card_visa",
    "body-null": lambda s: None,
}


def referenced_skus(body: Any, known: set[str]) -> set[str]:
    """The catalog skus that appear anywhere in a request body."""
    found: set[str] = set()
    if isinstance(body, dict):
        for value in body.values():
            found |= referenced_skus(value, known)
    elif isinstance(body, list):
        for value in body:
            found |= referenced_skus(value, known)
    elif isinstance(body, str) and body in known:
        found.add(body)
    return found


async def stock_snapshot(
    client: httpx.AsyncClient, admin: dict[str, str], skus: set[str]
) -> dict[str, tuple[int, int]]:
    records = await asyncio.gather(*(get_stock(client, admin, sku) for sku in sorted(skus)))
    return {record["sku"]: (record["on_hand"], record["reserved"]) for record in records}


async def _read_answer(reader: asyncio.StreamReader) -> tuple[int, list[tuple[str, str]], bytes]:
    head = await reader.readuntil(b"\r\n\r\n")
    status_line, *header_lines = head.decode("latin-1").split("\r\n")
    headers = [
        (name.strip(), value.strip())
        for name, _, value in (line.partition(":") for line in header_lines if line)
    ]
    length = next((int(v) for n, v in headers if n.lower() == "content-length"), 0)
    body = await reader.readexactly(length)
    return int(status_line.split()[1]), headers, body


async def post_watching_for_early_answer(
    client: httpx.AsyncClient, customer: Customer, content: bytes
) -> httpx.Response:
    """POST a body over a raw connection, giving the server a moment to answer from the headers.

    Like curl with ``Expect: 100-continue``, the client waits up to a second before uploading
    and stops uploading once an answer arrives: a server may refuse a large body from its
    ``Content-Length`` and close the connection, and a client that insists on writing the
    whole body first can then lose the answer to a connection reset.
    """
    url = client.base_url
    host, port = url.host, url.port or 80
    reader, writer = await asyncio.open_connection(host, port)
    request_head = (
        f"POST /api/orders HTTP/1.1\r\nHost: {host}:{port}\r\n"
        f"Authorization: {customer.headers['Authorization']}\r\n"
        f"Content-Type: application/json\r\nContent-Length: {len(content)}\r\n"
        "Connection: close\r\n\r\n"
    )
    answer = asyncio.create_task(_read_answer(reader))
    try:
        writer.write(request_head.encode("latin-1"))
        await writer.drain()
        await asyncio.wait({answer}, timeout=1.0)
        for start in range(0, len(content), 64 * 1024):
            if answer.done():
                break
            writer.write(content[start : start + 64 * 1024])
            await writer.drain()
    except ConnectionError:
        pass
    try:
        status, headers, body = await asyncio.wait_for(answer, timeout=30)
    finally:
        writer.close()
        with contextlib.suppress(ConnectionError):
            await writer.wait_closed()
    request = httpx.Request("POST", url.join("/api/orders"))
    return httpx.Response(status, headers=headers, content=body, request=request)


async def assert_refused_without_effect(
    client: httpx.AsyncClient,
    admin: dict[str, str],
    customer: Customer,
    content: bytes,
    touched: set[str],
    status: int,
    early_answer: bool = False,
) -> None:
    """Send raw bytes as a placement; expect a problem and no order nor stock movement."""
    before = await stock_snapshot(client, admin, touched)
    if early_answer:
        response = await post_watching_for_early_answer(client, customer, content)
    else:
        headers = {**customer.headers, "Content-Type": "application/json"}
        response = await client.post("/api/orders", content=content, headers=headers)
    assert_problem(response, status)
    await asyncio.sleep(0.05)
    assert await list_orders(client, customer.headers) == []
    assert await stock_snapshot(client, admin, touched) == before


@pytest.fixture
async def catalog_skus(client: httpx.AsyncClient, admin: dict[str, str]) -> list[str]:
    """All catalog skus in random order, the first two stocked so a wrong accept would show."""
    products = await list_products(client)
    skus = [product["sku"] for product in products]
    for sku in skus[:2]:
        await set_stock(client, admin, sku, 50)
    return skus


@pytest.mark.parametrize("case", list(BAD_BODIES))
async def test_invalid_order_body_is_422_and_creates_nothing(
    client: httpx.AsyncClient,
    admin: dict[str, str],
    customer: Customer,
    catalog_skus: list[str],
    case: str,
) -> None:
    body = BAD_BODIES[case](catalog_skus)
    touched = referenced_skus(body, set(catalog_skus)) | set(catalog_skus[:2])
    await assert_refused_without_effect(
        client, admin, customer, json.dumps(body).encode(), touched, 422
    )


@pytest.mark.parametrize(
    "content",
    [b'{"items": [', b"not json at all", b"", b'{"items": [], "payment_method": }', b"\xff\xfe"],
    ids=["truncated", "plain-text", "empty", "syntax-error", "not-utf8"],
)
async def test_malformed_json_is_422_and_creates_nothing(
    client: httpx.AsyncClient,
    admin: dict[str, str],
    customer: Customer,
    catalog_skus: list[str],
    content: bytes,
) -> None:
    await assert_refused_without_effect(
        client, admin, customer, content, set(catalog_skus[:2]), 422
    )


@pytest.mark.parametrize("early_answer", [True, False], ids=["curl-like", "plain-client"])
async def test_oversize_body_is_413_and_creates_nothing(
    client: httpx.AsyncClient,
    admin: dict[str, str],
    customer: Customer,
    catalog_skus: list[str],
    early_answer: bool,
) -> None:
    """A 2 MB placement is refused for its size, whether or not the client reads early.

    A plain client sends the whole body before it reads; the server must read
    the body to the end so that such a client sees the 413, not a reset.
    """
    content = json.dumps(_order(catalog_skus, padding="x" * (2 * 1024 * 1024))).encode()
    touched = set(catalog_skus[:2])
    for _ in range(1 if early_answer else 5):
        await assert_refused_without_effect(
            client, admin, customer, content, touched, 413, early_answer=early_answer
        )


@pytest.mark.parametrize(
    "case",
    ["quantity-100", "20-lines"],
)
async def test_boundary_body_is_accepted(
    client: httpx.AsyncClient,
    admin: dict[str, str],
    customer: Customer,
    catalog_skus: list[str],
    case: str,
) -> None:
    """The limits are inclusive, which also shows the refusals above are not blanket ones."""
    if case == "quantity-100":
        body = order_body([(catalog_skus[0], 1), (catalog_skus[1], 100)], "pm_card_visa")
    else:
        body = order_body([(sku, 1) for sku in catalog_skus[:20]], "pm_card_visa")
    response = await client.post(
        "/api/orders",
        content=json.dumps(body).encode(),
        headers={**customer.headers, "Content-Type": "application/json"},
    )
    order_id = check_accepted(response)
    order = await wait_order(client, order_id, customer.headers)
    assert len(order["items"]) == len(body["items"])
