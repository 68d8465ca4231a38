"""Customer tokens and internal tokens are two kinds: neither passes where the other is expected.

A customer's access token works at the gateway only; an internal token works between
the processes only. Over HTTP this runs the real gateway in front of the real identity
and history services (their apps as ``python -m shoplab.services`` builds them, served on
loopback ports without their broker side, which these requests never touch).
"""

import socket
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import jwt
import pytest

from shoplab.gateway import routes
from shoplab.gateway.app import Gateway
from shoplab.history.adapters.tables import MIGRATIONS as HISTORY_MIGRATIONS
from shoplab.identity.adapters.signing_keys import KeyRing
from shoplab.identity.adapters.tokens import JwtSigner
from shoplab.identity.domain.model import Customer, Role
from shoplab.platform.auth import ADMIN, CUSTOMER, InvalidToken, Principal, TokenVerifier
from shoplab.platform.discovery import Instance
from shoplab.platform.discovery.static import StaticResolver
from shoplab.platform.host import ServiceHost
from shoplab.platform.internal_auth import (
    AUDIENCE,
    TOKEN_TYPE,
    ServiceCredentials,
    ensure_service_secret,
    load_service_secret,
)
from shoplab.platform.persistence.migrate import upgrade
from shoplab.platform.settings import PlatformSettings
from shoplab.services import SERVICES

from ..problems import assert_problem
from ..serving import served

ISSUER, API_AUDIENCE = "shoplab-identity", "shoplab-api"
INTERNAL_PRINCIPALS = [
    None,
    Principal("c1", CUSTOMER),
    Principal("a1", ADMIN),
]
"""A service naming itself, and the gateway naming a customer or an administrator."""


def customer_token(data_dir: Path) -> str:
    """An access token as identity issues it, from the data folder's key ring."""
    ring = KeyRing.load_or_create(data_dir, token_ttl_seconds=300)
    signer = JwtSigner(ring, issuer=ISSUER, audience=API_AUDIENCE, ttl_seconds=300)
    return signer.issue(Customer("c1", "c@example.com", "C", "hash", Role.CUSTOMER)).access_token


# --- the verifiers -------------------------------------------------------------------------


def test_a_customer_token_is_refused_by_the_service_credentials(tmp_path: Path) -> None:
    ensure_service_secret(tmp_path)
    credentials = ServiceCredentials(load_service_secret(tmp_path), "orders")
    assert credentials.verify(credentials.mint()).role == "service"
    with pytest.raises(InvalidToken):
        credentials.verify(customer_token(tmp_path))


@pytest.mark.parametrize("principal", INTERNAL_PRINCIPALS, ids=["service", "customer", "admin"])
def test_an_internal_token_is_refused_by_the_token_verifier(
    tmp_path: Path, principal: Principal | None
) -> None:
    ring = KeyRing.load_or_create(tmp_path, token_ttl_seconds=300)
    verifier = TokenVerifier(ring.public_keys, issuer=ISSUER, audience=API_AUDIENCE)
    assert verifier.verify(customer_token(tmp_path)).customer_id == "c1"
    with pytest.raises(InvalidToken):
        verifier.verify(ServiceCredentials(b"s" * 32, "gateway").mint(principal))


SECRET = b"s" * 32


def internal(claims: dict[str, Any] | None = None, **header: Any) -> str:
    """An internal token signed with the right secret, its claims and header changed."""
    now = datetime.now(UTC)
    valid = {
        "iss": "gateway",
        "aud": AUDIENCE,
        "sub": "c1",
        "role": CUSTOMER,
        "iat": now,
        "nbf": now,
        "exp": now + timedelta(seconds=60),
    }
    payload = {
        key: value for key, value in {**valid, **(claims or {})}.items() if value is not None
    }
    return jwt.encode(payload, SECRET, algorithm="HS256", headers={"typ": TOKEN_TYPE, **header})


@pytest.mark.parametrize(
    "token",
    [
        pytest.param(lambda: internal(typ=None), id="no-typ"),
        pytest.param(lambda: internal(typ="at+jwt"), id="access-token-typ"),
        pytest.param(lambda: internal(jku="https://evil.example/keys"), id="jku"),
        pytest.param(lambda: internal(x5u="https://evil.example/cert"), id="x5u"),
        pytest.param(lambda: internal(crit=["exp"]), id="crit"),
        pytest.param(lambda: internal({"nbf": None}), id="no-nbf"),
        pytest.param(
            lambda: internal({"nbf": datetime.now(UTC) + timedelta(seconds=30)}), id="future-nbf"
        ),
        pytest.param(lambda: internal({"aud": API_AUDIENCE}), id="api-audience"),
    ],
)
def test_internal_tokens_obey_the_header_and_claim_rules(token: Any) -> None:
    credentials = ServiceCredentials(SECRET, "orders")
    assert credentials.verify(internal()).customer_id == "c1"
    with pytest.raises(InvalidToken):
        credentials.verify(token())


# --- over HTTP: the gateway and a service's own port ---------------------------------------


def free_url() -> str:
    """A loopback URL where nothing listens (the services these tests never reach)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{sock.getsockname()[1]}"


@dataclass
class Run:
    data_dir: Path
    gateway: httpx.AsyncClient
    history: httpx.AsyncClient
    """The history service's own port, as a caller going around the gateway reaches it."""


@asynccontextmanager
async def service(name: str, settings: PlatformSettings) -> AsyncIterator[str]:
    """One service's real app, its start-up work done (migrations), served on loopback."""
    host = ServiceHost(name, settings, http_port=0)
    parts = SERVICES[name](host)
    if name == routes.IDENTITY:
        await parts.start()
    else:
        await upgrade(host.database, HISTORY_MIGRATIONS)
    try:
        async with served(host.app(parts)) as url:
            yield url
    finally:
        await host.database.dispose()


@pytest.fixture(scope="module")
async def run(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Run]:
    data_dir = tmp_path_factory.mktemp("credentials")
    ensure_service_secret(data_dir)
    base = PlatformSettings(
        data_dir=data_dir,
        jwt_issuer=ISSUER,
        jwt_audience=API_AUDIENCE,
        admin_password="correct-horse-battery",
        broker_url="nats://127.0.0.1:1",  # the services are built with one; none connects
    )
    async with (
        service(routes.IDENTITY, base) as identity_url,
        service(routes.HISTORY, base) as history_url,
    ):
        urls = {name: free_url() for name in routes.SERVICES}
        urls |= {routes.IDENTITY: identity_url, routes.HISTORY: history_url}
        instances = [
            Instance(
                service=name, id="1", host="127.0.0.1", ports={"http": httpx.URL(url).port or 0}
            )
            for name, url in urls.items()
        ]
        settings = base.model_copy(update={"service_urls": urls})
        gateway = Gateway(settings, resolver=StaticResolver(instances))
        async with (
            served(gateway.app(), lifespan="on") as gateway_url,
            httpx.AsyncClient(base_url=gateway_url) as public,
            httpx.AsyncClient(base_url=history_url) as history,
        ):
            yield Run(data_dir, public, history)


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def signed_in_customer(gateway: httpx.AsyncClient) -> str:
    """A customer registered and signed in through the gateway: a real access token."""
    account = {"email": "ada@example.com", "password": "correct-horse-battery", "name": "Ada"}
    registered = await gateway.post("/api/auth/register", json=account)
    assert registered.status_code in (201, 409), registered.text
    answer = await gateway.post(
        "/api/auth/token", json={k: account[k] for k in ("email", "password")}
    )
    assert answer.status_code == 200, answer.text
    return str(answer.json()["access_token"])


async def test_a_customer_token_works_at_the_gateway(run: Run) -> None:
    """The control: what the gateway must refuse below, it accepts in the right form."""
    answer = await run.gateway.get(
        "/api/orders", headers=bearer(await signed_in_customer(run.gateway))
    )
    assert (answer.status_code, answer.json()) == (200, {"items": []})


@pytest.mark.parametrize("principal", INTERNAL_PRINCIPALS, ids=["service", "customer", "admin"])
async def test_an_internal_token_at_the_gateway_counts_as_no_token(
    run: Run, principal: Principal | None
) -> None:
    credentials = ServiceCredentials(load_service_secret(run.data_dir), "gateway")
    answer = await run.gateway.get("/api/orders", headers=bearer(credentials.mint(principal)))
    assert_problem(answer, 401)


async def test_a_customer_token_at_a_service_s_own_port_is_refused(run: Run) -> None:
    token = await signed_in_customer(run.gateway)
    assert_problem(await run.history.get("/api/orders", headers=bearer(token)), 401)
    credentials = ServiceCredentials(load_service_secret(run.data_dir), "gateway")
    customer = jwt.decode(token, options={"verify_signature": False})["sub"]
    forwarded = credentials.headers(Principal(customer, CUSTOMER))
    answer = await run.history.get("/api/orders", headers=forwarded)
    assert (answer.status_code, answer.json()) == (200, {"items": []})
