"""Rate limits: quotas and headers, per-customer and per-address counting, a shared store.

The limiter is the real one, counting in memory or in the machine's Redis. The edge
middleware runs in an app from the real factory, with an ``identify`` that reads the
customer out of a plain ``Bearer <customer>`` header: token verification is tested
elsewhere, and here only the counting is under test. Two real gateways sharing a
Redis show that several instances enforce one limit.
"""

import asyncio
import re
import threading
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Annotated

import httpx
import pytest
from fastapi import APIRouter, Depends, FastAPI
from fastapi.responses import JSONResponse
from limits import parse
from prometheus_client import REGISTRY
from starlette.middleware import Middleware

from shoplab.gateway import routes
from shoplab.gateway.app import Gateway
from shoplab.platform.auth import (
    CUSTOMER,
    Authenticator,
    InvalidToken,
    Principal,
    bearer_token,
)
from shoplab.platform.http.app import create_app
from shoplab.platform.http.rate_limit import EdgePolicies, RateLimits
from shoplab.platform.internal_auth import ensure_service_secret
from shoplab.platform.rate_limits import InMemoryWindows, Policy, PrunedInPlace, RateLimiter
from shoplab.platform.settings import PlatformSettings

from ..redis_server import redis_prefix, redis_url

__all__ = ["redis_prefix", "redis_url"]

RATE_LIMIT = re.compile(r'^"(?P<name>[a-z-]+-\d+s)";r=(?P<r>\d+);t=(?P<t>\d+)$')


async def who(authorization: str | None) -> Principal | None:
    """``Bearer ada`` proves customer ``ada``; anything else proves nobody."""
    if authorization and authorization.startswith("Bearer "):
        return Principal(authorization.removeprefix("Bearer "), CUSTOMER)
    return None


def edge_app(limiter: RateLimiter, policies: EdgePolicies) -> FastAPI:
    """Any ``/api/...`` path answers 200, behind the rate limits; a sign-in with a wrong
    password (``?password=wrong``) answers 401."""
    router = APIRouter()

    @router.post("/api/auth/token")
    async def sign_in(password: str = "right") -> JSONResponse:
        return JSONResponse({}, status_code=401 if password == "wrong" else 200)

    @router.api_route("/api/{path:path}", methods=["GET", "POST"])
    async def anything(path: str) -> dict[str, str]:
        return {"path": path}

    app = create_app(
        title="edge",
        routers=[router],
        readiness={},
        middleware=[Middleware(RateLimits, limiter=limiter, policies=policies, identify=who)],
    )
    return app


def edge(limiter: RateLimiter, policies: EdgePolicies) -> httpx.AsyncClient:
    return client_of(edge_app(limiter, policies))


def client_of(app: FastAPI, address: str = "127.0.0.1") -> httpx.AsyncClient:
    transport = httpx.ASGITransport(app=app, client=(address, 40_000))
    return httpx.AsyncClient(transport=transport, base_url="http://shoplab.test")


def policies(
    login: str = "2/minute",
    placement: str = "3/minute",
    reads: str = "5/minute",
    failed_logins: str | None = None,
) -> EdgePolicies:
    return EdgePolicies(
        Policy.parse("login", login),
        Policy.parse("placement", placement),
        Policy.parse("reads", reads),
        Policy.parse("failed-logins-per-address", failed_logins) if failed_logins else None,
    )


@pytest.fixture(params=["memory", "redis"])
def limiter(request: pytest.FixtureRequest) -> RateLimiter:
    if request.param == "memory":
        return RateLimiter.from_url(None)
    url = request.getfixturevalue("redis_url")
    return RateLimiter.from_url(url, request.getfixturevalue("redis_prefix"))


def remaining(answer: httpx.Response) -> int:
    found = RATE_LIMIT.match(answer.headers["ratelimit"])
    assert found is not None, answer.headers["ratelimit"]
    return int(found["r"])


async def test_a_quota_is_counted_down_then_refused_with_the_drafts_headers(
    limiter: RateLimiter,
) -> None:
    async with edge(limiter, policies()) as client:
        answers = [
            await client.post("/api/orders", headers={"Authorization": "Bearer ada"})
            for _ in range(4)
        ]
    assert [a.status_code for a in answers] == [200, 200, 200, 429]
    assert [remaining(a) for a in answers] == [2, 1, 0, 0]
    for answer in answers:
        assert answer.headers["ratelimit-policy"] == '"placement-60s";q=3;w=60'
    refused = answers[-1]
    assert refused.headers["content-type"] == "application/problem+json"
    assert refused.json()["status"] == 429
    assert refused.json()["title"] == "Too many requests"
    assert 1 <= int(refused.headers["retry-after"]) <= 60
    reset = RATE_LIMIT.match(refused.headers["ratelimit"])
    assert reset is not None
    assert reset["t"] == refused.headers["retry-after"]


async def test_one_customers_burst_does_not_throttle_another(limiter: RateLimiter) -> None:
    async with edge(limiter, policies()) as client:
        for _ in range(3):
            await client.post("/api/orders", headers={"Authorization": "Bearer ada"})
        ada = await client.post("/api/orders", headers={"Authorization": "Bearer ada"})
        bob = await client.post("/api/orders", headers={"Authorization": "Bearer bob"})
    assert ada.status_code == 429
    assert bob.status_code == 200
    assert remaining(bob) == 2


async def test_each_policy_has_its_own_quota(limiter: RateLimiter) -> None:
    async with edge(limiter, policies()) as client:
        for _ in range(3):
            await client.post("/api/orders", headers={"Authorization": "Bearer ada"})
        placed = await client.post("/api/orders", headers={"Authorization": "Bearer ada"})
        read = await client.get("/api/orders", headers={"Authorization": "Bearer ada"})
    assert placed.status_code == 429
    assert read.status_code == 200
    assert read.headers["ratelimit-policy"] == '"reads-60s";q=5;w=60'


async def test_anonymous_callers_are_counted_per_address() -> None:
    app = edge_app(RateLimiter.from_url(None), policies())
    async with client_of(app, "10.0.0.1") as first, client_of(app, "10.0.0.2") as second:
        for _ in range(5):
            await first.get("/api/products")
        refused = await first.get("/api/products")
        other = await second.get("/api/products")
    assert refused.status_code == 429
    assert other.status_code == 200


async def test_sign_ins_count_per_address_whatever_token_they_carry() -> None:
    async with edge(RateLimiter.from_url(None), policies()) as client:
        answers = [
            await client.post("/api/auth/token", headers={"Authorization": f"Bearer c{n}"})
            for n in range(3)
        ]
    assert [a.status_code for a in answers] == [200, 200, 429]
    assert answers[0].headers["ratelimit-policy"] == '"login-60s";q=2;w=60'


async def test_successful_sign_ins_behind_one_address_are_not_counted_as_failures(
    limiter: RateLimiter,
) -> None:
    """Fifty people behind one address (a class, an office) all get in."""
    quotas = policies(login="100/minute", failed_logins="2/minute")
    async with edge(limiter, quotas) as client:
        answers = [await client.post("/api/auth/token") for _ in range(10)]
    assert {a.status_code for a in answers} == {200}


async def test_failed_sign_ins_of_an_address_are_refused_past_their_quota(
    limiter: RateLimiter,
) -> None:
    """Guessing passwords from one address: each wrong guess counts; past the quota even a
    right password waits, and the answer says how long."""
    quotas = policies(login="100/minute", failed_logins="2/minute")
    async with edge(limiter, quotas) as client:
        wrong = [await client.post("/api/auth/token?password=wrong") for _ in range(3)]
        right = await client.post("/api/auth/token")
    assert [a.status_code for a in wrong] == [401, 401, 429]
    assert right.status_code == 429
    assert 1 <= int(right.headers["retry-after"]) <= 60
    assert "failed-logins-per-address" in right.json()["detail"]
    assert right.headers["ratelimit-policy"] == '"failed-logins-per-address-60s";q=2;w=60'


async def test_another_address_is_not_refused_for_the_failures_of_one() -> None:
    app = edge_app(
        RateLimiter.from_url(None), policies(login="100/minute", failed_logins="1/minute")
    )
    async with client_of(app, "10.0.0.1") as first, client_of(app, "10.0.0.2") as second:
        await first.post("/api/auth/token?password=wrong")
        refused = await first.post("/api/auth/token")
        other = await second.post("/api/auth/token")
    assert refused.status_code == 429
    assert other.status_code == 200


async def test_a_burst_quota_refusal_spends_nothing_of_the_longer_quota() -> None:
    limiter = RateLimiter.from_url(None)
    policy = Policy.parse("placement", "300/hour;2/minute")
    assert [q.get_expiry() for q in policy.quotas] == [60, 3600]
    decisions = [await limiter.hit(policy, "ada") for _ in range(5)]
    assert [d.allowed for d in decisions] == [True, True, False, False, False]
    hourly = await limiter._strategy.get_window_stats(policy.quotas[1], "placement", "ada")
    assert hourly.remaining == 298


async def test_probes_and_scrapes_are_never_limited() -> None:
    async with edge(RateLimiter.from_url(None), policies(reads="1/minute")) as client:
        answers = [await client.get(path) for path in ["/health/live"] * 3 + ["/metrics"] * 3]
    assert {a.status_code for a in answers} == {200}
    assert not any("ratelimit" in a.headers for a in answers)


async def test_an_unreachable_store_lets_requests_through(unused_tcp_port: int) -> None:
    limiter = RateLimiter.from_url(f"redis://127.0.0.1:{unused_tcp_port}/0")

    def unavailable() -> float:
        value = REGISTRY.get_sample_value(
            "shoplab_rate_limit_decisions_total", {"policy": "reads", "outcome": "unavailable"}
        )
        return value or 0.0

    before = unavailable()
    async with edge(limiter, policies(reads="1/minute")) as client:
        answers = [await client.get("/api/products") for _ in range(3)]
    assert [a.status_code for a in answers] == [200, 200, 200]
    assert not any("ratelimit" in a.headers for a in answers)
    assert unavailable() == before + 3


@pytest.fixture
def gateway_settings(tmp_path: Path, unused_tcp_port: int) -> Callable[..., PlatformSettings]:
    """Settings of a gateway whose services are all down: an allowed request gets a 503."""
    ensure_service_secret(tmp_path)
    dead = {service: f"http://127.0.0.1:{unused_tcp_port}" for service in routes.SERVICES}

    def make(**overrides: object) -> PlatformSettings:
        return PlatformSettings(data_dir=tmp_path, service_urls=dead, **overrides)  # type: ignore[arg-type]

    return make


@pytest.fixture
async def two_gateways(
    gateway_settings: Callable[..., PlatformSettings], redis_url: str, redis_prefix: str
) -> AsyncIterator[tuple[httpx.AsyncClient, httpx.AsyncClient]]:
    settings = gateway_settings(
        redis_url=redis_url, redis_prefix=redis_prefix, rate_limit_reads="4/minute"
    )
    async with client_of(Gateway(settings).app()) as a, client_of(Gateway(settings).app()) as b:
        yield a, b


async def test_gateways_sharing_a_redis_enforce_one_limit(
    two_gateways: tuple[httpx.AsyncClient, httpx.AsyncClient],
) -> None:
    a, b = two_gateways
    answers = [await (a if n % 2 else b).get("/api/products") for n in range(6)]
    assert [x.status_code for x in answers] == [503, 503, 503, 503, 429, 429]
    assert [remaining(x) for x in answers] == [3, 2, 1, 0, 0, 0]


async def test_gateways_counting_in_memory_each_have_their_own_quota(
    gateway_settings: Callable[..., PlatformSettings],
) -> None:
    settings = gateway_settings(rate_limit_reads="2/minute")
    async with client_of(Gateway(settings).app()) as a, client_of(Gateway(settings).app()) as b:
        answers = [await (a if n % 2 else b).get("/api/products") for n in range(4)]
    assert [x.status_code for x in answers] == [503, 503, 503, 503]


class CountingVerifier:
    """Proves ``ada`` for the token ``good``, nothing for any other; counts its checks."""

    def __init__(self) -> None:
        self.checks = 0

    def verify(self, token: str) -> Principal:
        self.checks += 1
        if token != "good":
            raise InvalidToken
        return Principal("ada", CUSTOMER)

    async def identify(self, authorization: str | None) -> Principal | None:
        token = bearer_token(authorization)
        try:
            return self.verify(token) if token is not None else None
        except InvalidToken:
            return None


@pytest.mark.parametrize(("token", "status"), [("good", 200), ("forged", 401)])
async def test_a_token_is_verified_once_per_request(token: str, status: int) -> None:
    """The rate limits verify it and leave the caller for the route's authentication."""
    verifier = CountingVerifier()
    auth = Authenticator(verifier)
    router = APIRouter()

    @router.get("/api/mine")
    async def mine(principal: Annotated[Principal, Depends(auth.customer)]) -> dict[str, str]:
        return {"customer": principal.customer_id}

    limits = Middleware(
        RateLimits,
        limiter=RateLimiter.from_url(None),
        policies=policies(),
        identify=verifier.identify,
    )
    app = create_app(title="edge", routers=[router], readiness={}, middleware=[limits])
    async with client_of(app) as client:
        answer = await client.get("/api/mine", headers={"Authorization": f"Bearer {token}"})
    assert answer.status_code == status
    assert verifier.checks == 1


async def test_counting_in_memory_starts_no_thread_and_drops_expired_entries() -> None:
    """The library's memory store would start a timer thread after hits; this one prunes in
    place, at most once a second, and counts the same."""
    windows = InMemoryWindows()
    quota = parse("5/second")
    threads = threading.active_count()
    allowed = [await windows.hit(quota, "reads", f"customer-{n % 3}") for n in range(30)]
    assert sum(allowed) == 15  # five for each of three customers
    assert threading.active_count() <= threads
    storage = windows._storage
    assert all(len(entries) == 5 for entries in storage.events.values())
    storage._pruned_at -= PrunedInPlace.PRUNE_EVERY_SECONDS  # as if a second had passed
    await asyncio.sleep(1.05)  # the entries' window
    assert await windows.hit(quota, "reads", "customer-0")
    assert sorted(len(entries) for entries in storage.events.values()) == [0, 0, 1]
