"""The front door under abuse, through the public port of the monolith and the gateway.

Oversize heads, slow clients, deep JSON, wrong methods, mass assignment and foreign
origins are refused with a problem; every answer carries the security headers; no
answer reveals a stack trace, a file, SQL, a host or a port.

The slow-client probe waits for the systems' client timeout (``SHOPLAB_CLIENT_TIMEOUT_SECONDS``,
10 s by default): its three clients wait together.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
import time
from typing import Any

import httpx
import pytest

from .api import Customer, System, assert_problem, bearer, expect_json, registration
from .shop import get_stock, list_products, place_and_wait, set_stock

pytestmark = pytest.mark.lifecycle_only

SECURITY_HEADERS = {
    "x-content-type-options": "nosniff",
    "cache-control": "no-store",
    "content-security-policy": "default-src 'none'; frame-ancestors 'none'",
    "referrer-policy": "no-referrer",
    "x-frame-options": "DENY",
    "cross-origin-resource-policy": "same-origin",
}
INTERNALS = re.compile(
    r"Traceback|File \"|\.py\b|/src/|site-packages|SELECT |INSERT |sqlalchemy|sqlite|asyncpg"
    r"|127\.0\.0\.1|localhost|uvicorn|starlette",
    re.IGNORECASE,
)
SLOW_CLIENT_BOUND_S = 30.0
"""Well past the default client timeout (10 s), for a loaded machine: a slow client must be
cut off by then, where without the timeout it would hold its connection for good."""
ORIGIN = "https://elsewhere.example"


def assert_secured(answer: httpx.Response) -> None:
    where = f"{answer.request.method} {answer.request.url.path} -> {answer.status_code}"
    for name, value in SECURITY_HEADERS.items():
        assert answer.headers.get(name) == value, f"{where}: {name} is {answer.headers.get(name)}"
    assert "server" not in answer.headers, where


def assert_reveals_nothing(answer: httpx.Response) -> None:
    headers = " ".join(f"{name}: {value}" for name, value in answer.headers.items())
    found = INTERNALS.search(answer.text + " " + headers)
    assert found is None, f"{answer.request.url.path} reveals {found and found.group()!r}"


async def raw_exchange(system: System, data: bytes, trickle: bytes = b"") -> bytes:
    """Send ``data`` on a raw connection, then ``trickle`` a byte every 50 ms, and read
    everything the server answers until it closes the connection."""
    reader, writer = await asyncio.open_connection("127.0.0.1", system.port)
    received = asyncio.create_task(reader.read())
    try:
        with contextlib.suppress(ConnectionError):
            writer.write(data)
            await writer.drain()
            for byte in trickle:
                if received.done():
                    break
                writer.write(bytes([byte]))
                await writer.drain()
                await asyncio.sleep(0.05)
        return await asyncio.wait_for(received, timeout=SLOW_CLIENT_BOUND_S)
    finally:
        writer.close()


def parsed(raw: bytes) -> httpx.Response:
    """A raw HTTP/1.1 answer as a response object."""
    head, _, body = raw.partition(b"\r\n\r\n")
    status_line, *lines = head.decode("latin-1").split("\r\n")
    headers = [
        (name.strip(), value.strip()) for name, _, value in (x.partition(":") for x in lines)
    ]
    request = httpx.Request("GET", "http://front-door/raw")
    return httpx.Response(
        int(status_line.split()[1]), headers=headers, content=body, request=request
    )


# --- what every answer carries --------------------------------------------------------------


async def test_every_kind_of_answer_carries_the_security_headers_and_reveals_nothing(
    client: httpx.AsyncClient, customer: Customer
) -> None:
    json_type = {"Content-Type": "application/json"}
    answers = {
        200: [
            await client.get("/api/products"),
            await client.get("/api/orders", headers=customer.headers),
            await client.get("/health/live"),
            await client.get("/health/ready"),
            await client.get("/metrics"),
            await client.get("/api/openapi.json"),
        ],
        401: [await client.get("/api/orders")],
        404: [await client.get("/api/products/NO-SUCH-SKU"), await client.get("/api/nowhere")],
        405: [await client.delete("/api/products")],
        413: [
            await client.post(
                "/api/auth/register", content=b" " * (2 * 1024 * 1024), headers=json_type
            )
        ],
        422: [
            await client.post("/api/auth/register", content=b"{not json", headers=json_type),
            await client.post("/api/auth/register", content=b"\xff\xfe", headers=json_type),
            await client.post("/api/auth/register", json={"email": "x"}),
        ],
    }
    for status, kind in answers.items():
        for answer in kind:
            assert answer.status_code == status, (answer.request.url.path, answer.text[:300])
            assert_secured(answer)
            if status >= 400:
                assert_problem(answer, status)
                assert_reveals_nothing(answer)


async def test_the_docs_page_may_load_its_own_assets_and_nothing_else(
    client: httpx.AsyncClient,
) -> None:
    answer = await client.get("/api/docs")
    assert answer.status_code == 200
    policy = answer.headers["content-security-policy"]
    assert policy.startswith("default-src 'none'; script-src https://cdn.jsdelivr.net 'sha256-")
    assert "frame-ancestors 'none'" in policy
    assert "unsafe-eval" not in policy
    assert answer.headers["x-frame-options"] == "DENY"


# --- heads ----------------------------------------------------------------------------------


@pytest.mark.parametrize("size", [9_000, 1_000_000], ids=["9kB", "1MB"])
async def test_oversize_headers_are_a_431_problem(client: httpx.AsyncClient, size: int) -> None:
    answer = await client.get("/api/products", headers={"X-Pad": "a" * size})
    assert_problem(answer, 431)
    assert_secured(answer)


async def test_a_request_that_is_not_http_is_a_400_problem(system: System) -> None:
    answer = parsed(await raw_exchange(system, b"HELLO THERE\r\n\r\n"))
    assert_problem(answer, 400)
    assert_secured(answer)
    assert_reveals_nothing(answer)


async def test_slow_clients_are_cut_off(system: System) -> None:
    """Three at once: one that sends nothing, one that trickles its head (slowloris),
    one that trickles its body. None may hold its connection past the client timeout."""
    head = b"GET /api/products HTTP/1.1\r\nHost: front-door\r\nX-Slow: " + b"s" * 1_000
    body_head = (
        b"POST /api/auth/register HTTP/1.1\r\nHost: front-door\r\n"
        b"Content-Type: application/json\r\nContent-Length: 1000\r\n\r\n"
    )
    started = time.monotonic()
    idle, slow_head, slow_body = await asyncio.gather(
        raw_exchange(system, b""),
        raw_exchange(system, b"", trickle=head),
        raw_exchange(system, body_head, trickle=b" " * 1_000),
    )
    assert time.monotonic() - started < SLOW_CLIENT_BOUND_S
    assert idle == b""
    for raw in (slow_head, slow_body):
        answer = parsed(raw)
        assert_problem(answer, 408)
        assert_secured(answer)


# --- bodies ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "content",
    [b"[" * 60_000, b'{"a":' * 8_000 + b"1" + b"}" * 8_000],
    ids=["arrays", "objects"],
)
async def test_deeply_nested_json_is_a_422_problem(
    client: httpx.AsyncClient, customer: Customer, content: bytes
) -> None:
    json_type = {"Content-Type": "application/json"}
    for answer in (
        await client.post("/api/auth/register", content=content, headers=json_type),
        await client.post(
            "/api/orders", content=content, headers={**customer.headers, **json_type}
        ),
    ):
        assert_problem(answer, 422)
        assert_reveals_nothing(answer)
    assert (await client.get("/health/live")).status_code == 200


# --- methods --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "path", "allow"),
    [
        ("DELETE", "/api/products", "GET"),
        ("POST", "/api/products/SKU-1", "GET"),
        ("DELETE", "/api/orders", "GET, POST"),
        ("GET", "/api/orders/o1/cancel", "POST"),
        ("POST", "/api/orders/o1/details", "GET"),
        ("DELETE", "/api/admin/inventory/SKU-1", "GET, PUT"),
        ("GET", "/api/auth/register", "POST"),
    ],
)
async def test_a_wrong_method_is_a_405_with_allow(
    client: httpx.AsyncClient, customer: Customer, method: str, path: str, allow: str
) -> None:
    answer = await client.request(method, path, headers=customer.headers)
    assert_problem(answer, 405)
    assert answer.headers["allow"] == allow
    assert_secured(answer)


# --- mass assignment ------------------------------------------------------------------------


async def test_a_registration_cannot_choose_its_role(
    client: httpx.AsyncClient, admin: dict[str, str]
) -> None:
    body = registration(role="admin")
    assert_problem(await client.post("/api/auth/register", json=body), 422)
    credentials = {"email": body["email"], "password": body["password"]}
    assert_problem(await client.post("/api/auth/token", json=credentials), 401)
    assert_problem(await client.post("/api/auth/token", json={**credentials, "role": "admin"}), 422)
    plain = {key: value for key, value in body.items() if key != "role"}
    expect_json(await client.post("/api/auth/register", json=plain), 201)
    token = expect_json(await client.post("/api/auth/token", json=credentials), 200)
    sku = (await list_products(client))[0]["sku"]
    customer = bearer(token["access_token"])
    assert_problem(await client.get(f"/api/admin/inventory/{sku}", headers=customer), 403)


@pytest.mark.parametrize(
    "extra",
    [{"reserved": 0}, {"available": 1_000_000}, {"sku": "OTHER"}],
    ids=["reserved", "available", "sku"],
)
async def test_a_stock_count_sets_on_hand_only(
    client: httpx.AsyncClient, admin: dict[str, str], extra: dict[str, Any]
) -> None:
    sku = (await list_products(client))[-1]["sku"]
    before = await get_stock(client, admin, sku)
    answer = await client.put(
        f"/api/admin/inventory/{sku}", json={"on_hand": 7, **extra}, headers=admin
    )
    assert_problem(answer, 422)
    assert await get_stock(client, admin, sku) == before


async def test_a_cancellation_ignores_what_its_body_says(
    client: httpx.AsyncClient, admin: dict[str, str], customer: Customer, other_customer: Customer
) -> None:
    sku = (await list_products(client))[1]["sku"]
    await set_stock(client, admin, sku, 1_000)
    order = await place_and_wait(client, customer, [(sku, 1)], "pm_card_chargeDeclined")
    assert order["status"] == "REJECTED"
    forged = {
        "status": "APPROVED",
        "total_cents": 1,
        "customer_id": other_customer.customer_id,
        "role": "admin",
    }
    answer = await client.post(
        f"/api/orders/{order['order_id']}/cancel", json=forged, headers=customer.headers
    )
    assert_problem(answer, 409)
    after = expect_json(
        await client.get(f"/api/orders/{order['order_id']}", headers=customer.headers), 200
    )
    assert after == order


# --- cross-origin calls ---------------------------------------------------------------------


async def test_no_other_origin_may_call_from_a_browser(
    client: httpx.AsyncClient, customer: Customer
) -> None:
    """CORS is closed unless origins are configured: no answer names an allowed origin."""
    preflight = await client.options(
        "/api/orders",
        headers={
            "Origin": ORIGIN,
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "authorization, content-type",
        },
    )
    simple = await client.get("/api/orders", headers={**customer.headers, "Origin": ORIGIN})
    assert_problem(preflight, 405)
    assert simple.status_code == 200
    for answer in (preflight, simple):
        assert not [name for name in answer.headers if name.startswith("access-control-")]
