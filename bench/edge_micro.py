"""What the edge costs per request, in process: the gateway's forwarding path and a service's.

    .venv/bin/python bench/edge_micro.py [--requests 3000]

Two measurements, each a loop of one request at a time, called straight on the ASGI app
(no server, no socket in front), so what is timed is the app's own work:

- ``service``: a service's app (``create_app`` with its guard) answering a read behind
  ``Authenticator.customer``, as ``GET /api/orders/{id}`` does, without the database;
- ``gateway``: the real gateway forwarding ``GET /api/orders/o1`` with a customer token,
  to a stand-in service in another process (so its CPU is not counted here).

Each prints the CPU time and the wall time per request (median), in microseconds.
"""

import argparse
import asyncio
import json
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Annotated, Any

import jwt
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from fastapi import APIRouter, Depends
from jwt.algorithms import OKPAlgorithm
from starlette.middleware import Middleware
from starlette.types import ASGIApp, Message

from shoplab.gateway.app import Gateway
from shoplab.gateway.routes import SERVICES
from shoplab.platform.auth import CUSTOMER, Authenticator, Principal
from shoplab.platform.http.app import create_app
from shoplab.platform.http.internal_guard import ServiceGuard
from shoplab.platform.internal_auth import (
    ServiceCredentials,
    ensure_service_secret,
    load_service_secret,
)
from shoplab.platform.settings import PlatformSettings
from shoplab.platform.telemetry.tracing import configure_tracing

ORDER = {"order_id": "o1", "status": "APPROVED", "total_cents": 1200, "items": []}
STAND_IN = """
import json, sys
from aiohttp import web
jwks, order = json.loads(sys.argv[1]), json.dumps(json.loads(sys.argv[2])).encode()
async def answer(request):
    if request.path == "/.well-known/jwks.json":
        return web.json_response(jwks)
    return web.Response(body=order, content_type="application/json")
app = web.Application()
app.router.add_route("*", "/{tail:.*}", answer)
web.run_app(app, host="127.0.0.1", port=int(sys.argv[3]), print=None, access_log=None)
"""
PORT = 18791


def scope_for(method: str, path: str, headers: dict[str, str]) -> dict[str, Any]:
    return {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": method,
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "root_path": "",
        "query_string": b"",
        "headers": [(k.lower().encode(), v.encode()) for k, v in headers.items()],
        "client": ("127.0.0.1", 50000),
        "server": ("127.0.0.1", 8000),
        "state": {},
    }


async def once(app: ASGIApp, scope: dict[str, Any]) -> int:
    status = 0

    async def receive() -> Message:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: Message) -> None:
        nonlocal status
        if message["type"] == "http.response.start":
            status = message["status"]

    await app({**scope, "state": {}}, receive, send)
    return status


async def measure(name: str, call: Callable[[], Awaitable[int]], requests: int) -> None:
    for _ in range(200):
        status = await call()
        assert status == 200, f"{name}: answered {status}"
    walls: list[float] = []
    cpu_start = time.process_time()
    for _ in range(requests):
        started = time.perf_counter()
        await call()
        walls.append(time.perf_counter() - started)
    cpu = (time.process_time() - cpu_start) / requests
    wall = statistics.median(walls)
    print(f"{name:8} cpu {cpu * 1e6:7.1f} µs/request   wall p50 {wall * 1e6:7.1f} µs")


def service_app(credentials: ServiceCredentials) -> ASGIApp:
    auth = Authenticator(credentials)
    router = APIRouter(prefix="/api/orders")

    @router.get("/{order_id}")
    async def get_order(
        order_id: str, principal: Annotated[Principal, Depends(auth.customer)]
    ) -> dict[str, Any]:
        return {**ORDER, "order_id": order_id, "customer_id": principal.customer_id}

    return create_app(
        title="bench",
        routers=[router],
        readiness={},
        middleware=[Middleware(ServiceGuard, credentials=credentials)],
    )


def access_token_and_jwks() -> tuple[str, dict[str, Any]]:
    """A customer's token and the key set that proves it, as identity would publish it."""
    key = Ed25519PrivateKey.generate()
    jwk = OKPAlgorithm.to_jwk(key.public_key(), as_dict=True)
    jwks = {"keys": [{**jwk, "kid": "k1", "use": "sig", "alg": "EdDSA"}]}
    now = datetime.now(UTC)
    claims: dict[str, Any] = {"sub": "c1", "role": CUSTOMER, "iss": "bench", "aud": "bench-api"}
    claims |= {"iat": now, "nbf": now, "exp": now + timedelta(minutes=30)}
    token = jwt.encode(claims, key, algorithm="EdDSA", headers={"kid": "k1", "typ": "at+jwt"})
    return token, jwks


async def main(requests: int, token: str, data_dir: Path) -> None:
    configure_tracing("bench", "1", data_dir)
    credentials = ServiceCredentials(load_service_secret(data_dir), "bench")

    service = service_app(credentials)
    internal = {"Authorization": f"Bearer {credentials.mint(Principal('c1', CUSTOMER))}"}
    service_scope = scope_for("GET", "/api/orders/o1", internal)
    await measure("service", lambda: once(service, service_scope), requests)

    url = f"http://127.0.0.1:{PORT}"
    settings = PlatformSettings(
        data_dir=data_dir,
        service_urls=dict.fromkeys(SERVICES, url),
        jwt_issuer="bench",
        jwt_audience="bench-api",
        rate_limit_reads="1000000/second",
    )
    gateway = Gateway(settings)
    app = gateway.app()
    gateway_scope = scope_for("GET", "/api/orders/o1", {"Authorization": f"Bearer {token}"})
    await measure("gateway", lambda: once(app, gateway_scope), requests)
    await gateway.upstreams.close()


def run(requests: int) -> None:
    data_dir = Path(tempfile.mkdtemp(prefix="shoplab-edge-micro-"))
    ensure_service_secret(data_dir)
    token, jwks = access_token_and_jwks()
    stand_in = subprocess.Popen(
        [sys.executable, "-c", STAND_IN, json.dumps(jwks), json.dumps(ORDER), str(PORT)]
    )
    try:
        time.sleep(1.5)
        asyncio.run(main(requests, token, data_dir))
    finally:
        stand_in.terminate()
        stand_in.wait()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=3000)
    run(parser.parse_args().requests)
