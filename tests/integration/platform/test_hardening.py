"""The HTTP edge under abuse: oversize heads, slow clients, deep JSON, wrong methods,
mass assignment, foreign origins, and what every answer carries (or never reveals).

Protocol behaviour (heads, slow clients, proxy headers) is probed on a real uvicorn,
configured as ``serve`` configures every process, with raw sockets; the rest on apps
built by ``create_app``, in-process.
"""

import asyncio
import base64
import contextlib
import hashlib
import json
import re
import socket
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import replace
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import APIRouter, FastAPI, Request
from pydantic import BaseModel, ConfigDict
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.types import ASGIApp, Receive, Scope, Send

from shoplab.gateway import routes
from shoplab.gateway.app import Gateway
from shoplab.monolith.app import Monolith
from shoplab.platform.errors import TooManyRequests
from shoplab.platform.http.app import create_app
from shoplab.platform.http.edge_settings import EdgeSettings
from shoplab.platform.http.problems import problem_response
from shoplab.platform.http.server import uvicorn_config
from shoplab.platform.internal_auth import ensure_service_secret
from shoplab.platform.settings import PlatformSettings

from ..problems import assert_problem
from ..serving import serving

BODY_LIMIT = 2_048
HEADER_LIMIT = 2_048
TIMEOUT = 0.5
"""The client timeout of the served apps: short, so that slow clients are quick to test."""
ORIGIN = "https://shop.example"
SECURITY_HEADERS = {
    "x-content-type-options": "nosniff",
    "cache-control": "no-store",
    "content-security-policy": "default-src 'none'; frame-ancestors 'none'",
    "referrer-policy": "no-referrer",
    "x-frame-options": "DENY",
    "cross-origin-resource-policy": "same-origin",
}
INTERNALS = re.compile(r"Traceback|File \"|\.py\b|SELECT|sqlalchemy|127\.0\.0\.1|localhost", re.I)


class Body(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)
    quantity: int


class TooOften:
    """A middleware that refuses every request under ``/limited`` as a rate limiter would."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["path"] == "/limited":
            await problem_response(TooManyRequests("Slow down.", 7))(scope, receive, send)
            return
        await self.app(scope, receive, send)


def sample_app(edge: EdgeSettings = EdgeSettings()) -> FastAPI:
    router = APIRouter()

    @router.get("/api/things")
    async def list_things() -> list[str]:
        return []

    @router.post("/api/things", status_code=201)
    async def add_thing(body: Body) -> Body:
        return body

    @router.post("/api/things/{thing}/send")
    async def send_thing(thing: str) -> dict[str, str]:
        return {"sent": thing}

    @router.api_route(
        "/api/any/{rest:path}", methods=["GET", "POST", "PUT"], include_in_schema=False
    )
    async def only_get_in_the_end(request: Request) -> dict[str, str]:
        if request.method != "GET":
            raise HTTPException(status_code=405, headers={"Allow": "GET"})
        return {}

    @router.get("/api/crash")
    async def crash() -> None:
        raise RuntimeError("SELECT secret FROM db01.internal:5432 /srv/shoplab/orders.py")

    @router.get("/api/client")
    async def client(request: Request) -> dict[str, str]:
        assert request.client is not None
        return {"host": request.client.host, "scheme": request.url.scheme}

    return create_app(
        title="t",
        routers=[router],
        readiness={},
        middleware=[Middleware(TooOften)],
        edge=replace(edge, max_body_bytes=BODY_LIMIT),
    )


@asynccontextmanager
async def in_process(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
        yield client


SERVED_EDGE = EdgeSettings(max_header_bytes=HEADER_LIMIT, client_timeout_seconds=TIMEOUT)


@asynccontextmanager
async def served(app: FastAPI) -> AsyncIterator[tuple[str, int]]:
    """Serve ``app`` as ``serve`` would, on a free loopback port, until the block ends."""
    config = uvicorn_config(app, host="127.0.0.1", port=0)
    config.lifespan = "off"
    config.timeout_graceful_shutdown = 1
    async with serving(config) as address:
        yield address


@pytest.fixture
async def server() -> AsyncIterator[tuple[str, int]]:
    async with served(sample_app(SERVED_EDGE)) as address:
        yield address


async def read_answer(reader: asyncio.StreamReader) -> httpx.Response:
    """One HTTP/1.1 answer with a ``Content-Length``, read off a raw connection."""
    head = await reader.readuntil(b"\r\n\r\n")
    status_line, *lines = head.decode("latin-1").split("\r\n")
    headers = [
        (name.strip(), value.strip())
        for name, _, value in (line.partition(":") for line in lines if line)
    ]
    length = next(int(value) for name, value in headers if name.lower() == "content-length")
    body = await reader.readexactly(length)
    return httpx.Response(int(status_line.split()[1]), headers=headers, content=body)


async def closed_within(reader: asyncio.StreamReader, seconds: float) -> bytes:
    """Everything the server sends until it closes the connection, which must be soon."""
    return await asyncio.wait_for(reader.read(), timeout=seconds)


def assert_secured(answer: httpx.Response) -> None:
    for name, value in SECURITY_HEADERS.items():
        assert answer.headers.get(name) == value, (name, answer.status_code, answer.headers)
    assert "server" not in answer.headers
    assert "strict-transport-security" not in answer.headers


def assert_reveals_nothing(answer: httpx.Response) -> None:
    text = answer.text + " ".join(f"{name}: {value}" for name, value in answer.headers.items())
    assert not INTERNALS.search(text), text


def request_head(path: str = "/api/things", *extra: str) -> bytes:
    return "\r\n".join([f"GET {path} HTTP/1.1", "Host: t", *extra, "", ""]).encode()


# --- 431: request heads too large ---------------------------------------------------------


async def test_header_fields_over_the_limit_are_a_431_problem_before_any_route() -> None:
    async with in_process(sample_app(SERVED_EDGE)) as client:
        within = await client.get("/api/things", headers={"x-pad": "a" * (HEADER_LIMIT // 2)})
        over = await client.get("/api/things", headers={"x-pad": "a" * HEADER_LIMIT})
        unrouted = await client.post("/api/nowhere", headers={"x-pad": "a" * HEADER_LIMIT})
    assert within.status_code == 200
    assert assert_problem(over, 431)["title"] == "Request header fields too large"
    assert over.headers["connection"] == "close"
    assert_problem(unrouted, 431)
    assert_secured(over)


async def test_a_served_head_past_the_limit_is_answered_431(server: tuple[str, int]) -> None:
    """Sent whole: within what the connection ceiling holds, the ASGI limit answers."""
    reader, writer = await asyncio.open_connection(*server)
    writer.write(request_head("/api/things", "X-Pad: " + "a" * (HEADER_LIMIT + 100)))
    answer = await read_answer(reader)
    writer.close()
    assert_problem(answer, 431)
    assert_secured(answer)


async def test_a_head_that_keeps_growing_is_refused_before_it_fills_memory(
    server: tuple[str, int],
) -> None:
    """httptools itself has no limit: a head of 50 MB is parsed and held whole. The
    connection ceiling answers 431 and closes once the head passes it, read after read."""
    reader, writer = await asyncio.open_connection(*server)
    writer.write(b"GET /api/things HTTP/1.1\r\nHost: t\r\nX-Pad: ")
    sent = 0
    answer = asyncio.create_task(reader.read())
    with contextlib.suppress(ConnectionError):
        while not answer.done() and sent < 10_000_000:
            writer.write(b"a" * 1_024)
            await writer.drain()
            sent += 1_024
            await asyncio.sleep(0.001)
    received = await asyncio.wait_for(answer, timeout=5)
    writer.close()
    assert received.startswith(b"HTTP/1.1 431 "), received[:200]
    assert b"application/problem+json" in received
    assert b"x-frame-options: DENY" in received
    assert sent < 1_000_000


# --- slow clients -------------------------------------------------------------------------


async def test_a_connection_that_sends_nothing_is_closed_after_the_client_timeout(
    server: tuple[str, int],
) -> None:
    reader, writer = await asyncio.open_connection(*server)
    started = time.monotonic()
    assert await closed_within(reader, TIMEOUT + 2) == b""
    assert time.monotonic() - started >= TIMEOUT * 0.9
    writer.close()


async def test_a_head_sent_a_byte_at_a_time_is_answered_408_and_closed(
    server: tuple[str, int],
) -> None:
    """Slowloris: each byte comes well within any idle timeout, the head never ends."""
    reader, writer = await asyncio.open_connection(*server)
    closing = asyncio.create_task(closed_within(reader, TIMEOUT + 2))
    started = time.monotonic()
    with contextlib.suppress(ConnectionError):
        for byte in request_head("/api/things", "X-Slow: " + "s" * 100):
            if closing.done():
                break
            writer.write(bytes([byte]))
            await writer.drain()
            await asyncio.sleep(TIMEOUT / 10)
    received = await closing
    writer.close()
    assert received.startswith(b"HTTP/1.1 408 "), received[:200]
    assert b'"title":"Request timeout"' in received
    assert TIMEOUT * 0.9 <= time.monotonic() - started < TIMEOUT + 1.5


async def test_a_body_sent_too_slowly_is_answered_408(server: tuple[str, int]) -> None:
    reader, writer = await asyncio.open_connection(*server)
    writer.write(
        b"POST /api/things HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\n"
        b'Content-Length: 100\r\n\r\n{"quantity": '
    )
    started = time.monotonic()
    answer = await asyncio.wait_for(read_answer(reader), timeout=TIMEOUT + 2)
    assert time.monotonic() - started >= TIMEOUT * 0.9
    assert_problem(answer, 408)
    assert answer.headers["connection"] == "close"
    assert_secured(answer)
    assert await closed_within(reader, 2) == b""
    writer.close()


async def test_a_kept_alive_connection_may_stay_idle_between_requests(
    server: tuple[str, int],
) -> None:
    """The head deadline runs from a request's first byte, not while the client is idle."""
    reader, writer = await asyncio.open_connection(*server)
    for _ in range(2):
        writer.write(request_head())
        assert (await read_answer(reader)).status_code == 200
        await asyncio.sleep(TIMEOUT * 2)
    writer.close()


async def test_a_request_the_parser_refuses_is_a_400_problem(server: tuple[str, int]) -> None:
    reader, writer = await asyncio.open_connection(*server)
    writer.write(b"NOT HTTP AT ALL\r\n\r\n")
    answer = await read_answer(reader)
    writer.close()
    assert_problem(answer, 400)
    assert_secured(answer)
    assert_reveals_nothing(answer)


async def test_forwarded_headers_from_a_client_are_not_trusted(server: tuple[str, int]) -> None:
    """The process is the edge: the rate limits count the connection's own address."""
    reader, writer = await asyncio.open_connection(*server)
    writer.write(
        request_head("/api/client", "X-Forwarded-For: 203.0.113.9", "X-Forwarded-Proto: https")
    )
    answer = await read_answer(reader)
    writer.close()
    assert answer.json() == {"host": "127.0.0.1", "scheme": "http"}


# --- deeply nested JSON -------------------------------------------------------------------


@pytest.mark.parametrize(
    "content",
    [b"[" * 100_000, b"[" * 5_000 + b"]" * 5_000, b'{"a":' * 50_000 + b"1" + b"}" * 50_000],
    ids=["open-arrays", "closed-arrays", "objects"],
)
async def test_json_nested_past_the_parser_s_depth_is_a_422_problem(content: bytes) -> None:
    router = APIRouter()

    @router.post("/api/things")
    async def add_thing(body: Body) -> Body:
        return body

    app = create_app(
        title="t", routers=[router], readiness={}, edge=EdgeSettings(max_body_bytes=1_000_000)
    )
    async with in_process(app) as client:
        for _ in range(2):
            answer = await client.post(
                "/api/things", content=content, headers={"content-type": "application/json"}
            )
            body = assert_problem(answer, 422)
            assert body["detail"] == "The JSON body is nested too deeply."
            assert_reveals_nothing(answer)


# --- 405 with Allow -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "path", "allow"),
    [
        ("DELETE", "/api/things", "GET, POST"),
        ("PUT", "/api/things", "GET, POST"),
        ("GET", "/api/things/t1/send", "POST"),
        ("POST", "/api/any/x", "GET"),
    ],
    ids=["two-routes-one-path", "put", "one-route", "endpoint-says"],
)
async def test_a_wrong_method_is_a_405_naming_every_method_of_the_path(
    method: str, path: str, allow: str
) -> None:
    async with in_process(sample_app()) as client:
        answer = await client.request(method, path)
    assert_problem(answer, 405)
    assert answer.headers["allow"] == allow
    assert_secured(answer)


# --- security headers on every answer -----------------------------------------------------


@pytest.mark.parametrize(
    ("method", "path", "content", "status"),
    [
        ("GET", "/api/things", None, 200),
        ("POST", "/api/things", b'{"quantity": 1}', 201),
        ("GET", "/api/nowhere", None, 404),
        ("DELETE", "/api/things", None, 405),
        ("POST", "/api/things", b'{"quantity": 1, "status": "PAID"}', 422),
        ("POST", "/api/things", b"{oops", 422),
        ("POST", "/api/things", b" " * (BODY_LIMIT + 1), 413),
        ("GET", "/limited", None, 429),
        ("GET", "/api/crash", None, 500),
        ("GET", "/health/live", None, 200),
        ("GET", "/health/ready", None, 200),
        ("GET", "/metrics", None, 200),
        ("GET", "/api/openapi.json", None, 200),
    ],
)
async def test_every_answer_carries_the_security_headers(
    method: str, path: str, content: bytes | None, status: int
) -> None:
    headers = {"content-type": "application/json", "server": "x"}
    async with in_process(sample_app()) as client:
        answer = await client.request(method, path, content=content, headers=headers)
    assert answer.status_code == status
    assert_secured(answer)
    if status >= 400:
        assert_problem(answer, status)
        assert_reveals_nothing(answer)
    if status == 429:
        assert answer.headers["retry-after"] == "7"


async def test_the_docs_page_may_load_exactly_what_it_needs() -> None:
    async with in_process(sample_app()) as client:
        answer = await client.get("/api/docs")
    assert answer.status_code == 200
    policy = dict(
        directive.strip().split(" ", 1)
        for directive in answer.headers["content-security-policy"].split(";")
    )
    inline = re.findall(r"<script>(.*?)</script>", answer.text, re.S)
    hashes = [
        "'sha256-" + base64.b64encode(hashlib.sha256(s.encode()).digest()).decode() + "'"
        for s in inline
    ]
    assert inline
    assert policy["default-src"] == "'none'"
    assert policy["script-src"].split() == ["https://cdn.jsdelivr.net", *hashes]
    assert policy["style-src"].split() == ["https://cdn.jsdelivr.net", "'unsafe-inline'"]
    assert policy["img-src"].split() == ["https://fastapi.tiangolo.com", "data:"]
    assert policy["connect-src"] == "'self'"
    assert policy["frame-ancestors"] == "'none'"
    assert answer.headers["x-frame-options"] == "DENY"
    assert answer.headers["x-content-type-options"] == "nosniff"


# --- CORS ---------------------------------------------------------------------------------


def preflight(origin: str, method: str = "POST", headers: str = "authorization") -> dict[str, str]:
    return {
        "origin": origin,
        "access-control-request-method": method,
        "access-control-request-headers": headers,
    }


async def test_cors_is_closed_by_default() -> None:
    async with in_process(sample_app()) as client:
        asked = await client.options("/api/things", headers=preflight(ORIGIN))
        simple = await client.get("/api/things", headers={"origin": ORIGIN})
    assert_problem(asked, 405)
    for answer in (asked, simple):
        assert not [name for name in answer.headers if name.startswith("access-control-")]


async def test_cors_lets_the_configured_origins_only() -> None:
    app = sample_app(EdgeSettings(cors_origins=(ORIGIN,)))
    async with in_process(app) as client:
        allowed = await client.options(
            "/api/things",
            headers=preflight(ORIGIN, headers="authorization, content-type, idempotency-key"),
        )
        foreign = await client.options("/api/things", headers=preflight("https://evil.example"))
        odd_header = await client.options("/api/things", headers=preflight(ORIGIN, headers="x-y"))
        simple = await client.get("/api/things", headers={"origin": ORIGIN})
        simple_foreign = await client.get("/api/things", headers={"origin": "https://evil.example"})
        crashed = await client.get("/api/crash", headers={"origin": ORIGIN})
    assert allowed.status_code == 200
    assert allowed.headers["access-control-allow-origin"] == ORIGIN
    assert set(allowed.headers["access-control-allow-methods"].split(", ")) == {
        "GET",
        "HEAD",
        "POST",
        "PUT",
    }
    assert {
        h.strip().lower() for h in allowed.headers["access-control-allow-headers"].split(",")
    } >= {
        "authorization",
        "content-type",
        "idempotency-key",
    }
    assert "access-control-allow-credentials" not in allowed.headers
    for refused in (foreign, odd_header):
        assert_problem(refused, 400)
        assert_secured(refused)
    assert "access-control-allow-origin" not in foreign.headers
    assert simple.headers["access-control-allow-origin"] == ORIGIN
    exposed = {h.strip() for h in simple.headers["access-control-expose-headers"].split(",")}
    assert exposed == {"Location", "Retry-After", "RateLimit", "RateLimit-Policy"}
    assert "access-control-allow-origin" not in simple_foreign.headers
    assert_problem(crashed, 500)
    assert crashed.headers["access-control-allow-origin"] == ORIGIN


# --- mass assignment ----------------------------------------------------------------------


def _request_schemas(document: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Every object schema a request body of ``document`` uses, nested ones too, by name."""
    components = document["components"]["schemas"]
    refs = re.findall(
        r'"\$ref": "#/components/schemas/([^"]+)"',
        json.dumps(
            [
                op.get("requestBody", {})
                for path in document["paths"].values()
                for op in path.values()
            ]
        ),
    )
    found: dict[str, dict[str, Any]] = {}
    while refs:
        name = refs.pop()
        if name not in found:
            found[name] = components[name]
            refs += re.findall(r'"\$ref": "#/components/schemas/([^"]+)"', json.dumps(found[name]))
    return found


def test_every_body_the_api_reads_refuses_unknown_fields(tmp_path: Path) -> None:
    """So ``status``, ``total_cents``, ``unit_price_cents``, ``customer_id`` or ``role`` in a
    body are a 422, never applied: every request body of the public contract, nested
    objects too, is closed (``extra="forbid"`` on its model)."""
    document = Monolith(PlatformSettings(data_dir=tmp_path)).app().openapi()
    schemas = _request_schemas(document)
    expected = {"Registration", "Credentials", "PlaceOrderRequest", "LineRequest", "StockCount"}
    assert expected <= set(schemas)
    open_schemas = [
        name for name, schema in schemas.items() if schema.get("additionalProperties") is not False
    ]
    assert open_schemas == []


# --- no internal detail -------------------------------------------------------------------


async def test_an_unexpected_error_is_a_bare_500_with_the_security_headers() -> None:
    async with in_process(sample_app()) as client:
        answer = await client.get("/api/crash")
    body = assert_problem(answer, 500)
    assert body["detail"] == "The server could not complete the request."
    assert_reveals_nothing(answer)
    assert_secured(answer)


async def test_a_dead_service_behind_the_gateway_is_a_503_that_reveals_nothing(
    tmp_path: Path,
) -> None:
    ensure_service_secret(tmp_path)
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        dead = f"http://127.0.0.1:{sock.getsockname()[1]}"
    settings = PlatformSettings(
        data_dir=tmp_path, service_urls={name: dead for name in routes.SERVICES}
    )
    async with in_process(Gateway(settings).app()) as client:
        answers = [
            await client.get("/api/products"),
            await client.post("/api/auth/register", json={"email": "a@b.c"}),
        ]
    for answer in answers:
        assert_problem(answer, 503)
        assert_reveals_nothing(answer)
        assert dead.rsplit(":", 1)[1] not in answer.text
        assert_secured(answer)
