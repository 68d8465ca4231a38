"""Tokens verified once per lifetime, internal tokens reused for half of theirs, one
verification per request behind a service's guard."""

import time
from datetime import UTC, datetime, timedelta
from typing import Annotated

import httpx
import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from fastapi import APIRouter, Depends
from starlette.middleware import Middleware

from shoplab.platform import auth, internal_auth
from shoplab.platform.auth import CUSTOMER, Authenticator, InvalidToken, Principal, TokenVerifier
from shoplab.platform.http.app import create_app
from shoplab.platform.http.internal_guard import ServiceGuard
from shoplab.platform.internal_auth import REUSE_SECONDS, TOKEN_TTL_SECONDS, ServiceCredentials
from shoplab.platform.token_cache import ExpiringMap

SECRET = b"s" * 32
ALICE = Principal("alice", CUSTOMER)


class Clock:
    """Real time moved by hand: tokens are minted at the clock's time, checked by PyJWT's."""

    def __init__(self) -> None:
        self.offset = 0.0

    def __call__(self) -> float:
        return time.time() + self.offset


class Decodes:
    """Counts the signature checks PyJWT makes, and lets each through."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch, module: object) -> None:
        self.count = 0
        real = jwt.decode

        def counted(*args: object, **kwargs: object) -> object:
            self.count += 1
            return real(*args, **kwargs)  # type: ignore[arg-type]

        monkeypatch.setattr(module, "jwt", _JwtWith(counted))


class _JwtWith:
    def __init__(self, decode: object) -> None:
        self.decode = decode

    def __getattr__(self, name: str) -> object:
        return getattr(jwt, name)


def test_an_entry_holds_until_its_time_then_is_gone() -> None:
    clock = Clock()
    entries: ExpiringMap[str, int] = ExpiringMap(clock=clock)
    entries.put("a", 1, clock() + 10)
    assert entries.get("a") == 1
    clock.offset = 10
    assert entries.get("a") is None
    assert len(entries) == 0


def test_the_map_is_bounded_and_drops_its_oldest_entry() -> None:
    entries: ExpiringMap[str, int] = ExpiringMap(max_size=2)
    until = time.time() + 60
    entries.put("a", 1, until)
    entries.put("b", 2, until)
    entries.put("c", 3, until)
    assert len(entries) == 2
    assert (entries.get("a"), entries.get("b"), entries.get("c")) == (None, 2, 3)


def test_an_internal_token_is_reused_for_half_its_lifetime_per_principal() -> None:
    clock = Clock()
    credentials = ServiceCredentials(SECRET, "gateway", clock=clock)
    first = credentials.mint(ALICE)
    assert credentials.mint(ALICE) == first
    assert credentials.mint(Principal("bob", CUSTOMER)) != first
    assert credentials.mint() != first, "the service's own token is another"
    clock.offset = REUSE_SECONDS - 1
    assert credentials.mint(ALICE) == first
    clock.offset = REUSE_SECONDS + 1
    renewed = credentials.mint(ALICE)
    assert renewed != first
    claims = jwt.decode(renewed, options={"verify_signature": False})
    assert claims["exp"] - clock() >= TOKEN_TTL_SECONDS - 2


def test_a_verified_internal_token_is_not_checked_again_until_it_expires(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    clock = Clock()
    decodes = Decodes(monkeypatch, internal_auth)
    credentials = ServiceCredentials(SECRET, "orders", clock=clock)
    token = ServiceCredentials(SECRET, "gateway").mint(ALICE)
    assert credentials.verify(token) == ALICE
    assert credentials.verify(token) == ALICE
    assert decodes.count == 1
    clock.offset = TOKEN_TTL_SECONDS + 1
    assert credentials.verify(token) == ALICE  # PyJWT's own clock has not moved
    assert decodes.count == 2, "past its exp, the token is verified again"


def test_a_token_that_fails_is_never_remembered(monkeypatch: pytest.MonkeyPatch) -> None:
    decodes = Decodes(monkeypatch, internal_auth)
    credentials = ServiceCredentials(SECRET, "orders")
    forged = ServiceCredentials(b"f" * 32, "gateway").mint(ALICE)
    for _ in range(2):
        with pytest.raises(InvalidToken):
            credentials.verify(forged)
    assert decodes.count == 2


def test_the_verified_map_is_bounded() -> None:
    credentials = ServiceCredentials(SECRET, "orders", max_cached=3)
    gateway = ServiceCredentials(SECRET, "gateway")
    for number in range(10):
        credentials.verify(gateway.mint(Principal(f"c{number}", CUSTOMER)))
    assert len(credentials._verified) == 3


def access_token(key: Ed25519PrivateKey, kid: str, minutes: float = 5) -> str:
    now = datetime.now(UTC)
    claims = {
        "sub": "alice",
        "role": CUSTOMER,
        "iss": "identity",
        "aud": "api",
        "iat": now,
        "nbf": now,
        "exp": now + timedelta(minutes=minutes),
    }
    return jwt.encode(claims, key, algorithm="EdDSA", headers={"kid": kid, "typ": "at+jwt"})


def test_access_tokens_are_forgotten_when_the_key_set_changes(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    decodes = Decodes(monkeypatch, auth)
    key_a, key_b = Ed25519PrivateKey.generate(), Ed25519PrivateKey.generate()
    keys: dict[str, Ed25519PublicKey] = {"a": key_a.public_key()}
    verifier = TokenVerifier(lambda: keys, issuer="identity", audience="api")
    token = access_token(key_a, "a")
    assert verifier.verify(token) == ALICE
    assert verifier.cached(token) == ALICE
    keys = dict(keys)  # a new mapping of the same keys: nothing changed
    assert verifier.verify(token) == ALICE
    assert decodes.count == 1
    keys = {**keys, "b": key_b.public_key()}  # a key published: verify again
    assert verifier.cached(token) is None
    assert verifier.verify(token) == ALICE
    assert decodes.count == 2
    keys = {"b": key_b.public_key()}  # the token's key withdrawn: refused at once
    with pytest.raises(InvalidToken):
        verifier.verify(token)


def test_an_access_token_is_remembered_until_its_exp_only() -> None:
    key = Ed25519PrivateKey.generate()
    clock = Clock()
    verifier = TokenVerifier(
        lambda: {"a": key.public_key()}, issuer="identity", audience="api", clock=clock
    )
    token = access_token(key, "a", minutes=1)
    verifier.verify(token)
    clock.offset = 59
    assert verifier.cached(token) == ALICE
    clock.offset = 61
    assert verifier.cached(token) is None


class CountingCredentials(ServiceCredentials):
    """The real credentials, counting every call to ``verify`` (cached or not)."""

    verified = 0

    def verify(self, token: str) -> Principal:
        self.verified += 1
        return super().verify(token)


async def test_the_guard_hands_its_principal_to_the_routes() -> None:
    credentials = CountingCredentials(SECRET, "orders")
    authenticator = Authenticator(credentials)
    router = APIRouter()

    @router.get("/api/mine")
    async def mine(caller: Annotated[Principal, Depends(authenticator.customer)]) -> str:
        return caller.customer_id

    app = create_app(
        title="guarded",
        routers=[router],
        readiness={},
        middleware=[Middleware(ServiceGuard, credentials=credentials)],
    )
    token = ServiceCredentials(SECRET, "gateway").mint(ALICE)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://orders") as client:
        for expected in (1, 2):
            answer = await client.get("/api/mine", headers={"Authorization": f"Bearer {token}"})
            assert answer.json() == "alice"
            assert credentials.verified == expected, "one verification per request"
        refused = await client.get("/api/mine", headers={"Authorization": "Bearer nope"})
        assert refused.status_code == 401
