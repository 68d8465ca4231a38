"""Signing-key rotation: the key ring's timeline, ``shoplab keys rotate``, and a running identity.

Time is an injected clock, shared by the ring and the gateway's JWKS cache where both
take part, so a minute passes in no time. The files are real, in a temporary data folder.
"""

import base64
import os
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import httpx
import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from typer.testing import CliRunner

from shoplab.cli.keys import keys_app
from shoplab.gateway.edge_auth import EdgeAuthenticator
from shoplab.gateway.jwks import JwksCache
from shoplab.identity.adapters.signing_keys import (
    KEYS_FOLDER,
    LEGACY_KEY_FILE,
    PUBLISH_AHEAD_SECONDS,
    KeyRing,
)
from shoplab.identity.adapters.tokens import JwtSigner
from shoplab.identity.bootstrap import IdentityContext
from shoplab.identity.domain.model import ADMIN_EMAIL, Customer, Role
from shoplab.platform.auth import (
    JWKS_MIN_REFRESH_SECONDS,
    LEEWAY_SECONDS,
    TokenVerifier,
)
from shoplab.platform.http.app import create_app
from shoplab.platform.internal_auth import ServiceCredentials
from shoplab.platform.persistence.database import Database
from shoplab.platform.secret_files import write_new_secret
from shoplab.platform.settings import PlatformSettings

ISSUER, AUDIENCE = "shoplab-identity", "shoplab-api"
TTL = 300
START = 1_800_000_000.0
PASSWORD = "correct-horse-battery"
# RFC 8037 appendix A: an Ed25519 private key and the RFC 7638 thumbprint of its public key.
RFC_8037_KEY = "nWGxne_9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2A"
RFC_8037_THUMBPRINT = "kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k"


class FakeClock:
    """Seconds since the epoch, moved by the test; also serves as the cache's monotonic clock."""

    def __init__(self, now: float = START) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def ring_at(data_dir: Path, clock: FakeClock) -> KeyRing:
    return KeyRing.load_or_create(data_dir, token_ttl_seconds=TTL, clock=clock)


def statuses(ring: KeyRing) -> list[tuple[str, str]]:
    return [(state.key.kid, state.status) for state in ring.states()]


def kid_of(token: str) -> str:
    return str(jwt.get_unverified_header(token)["kid"])


def private_files(data_dir: Path) -> list[Path]:
    files = sorted((data_dir / KEYS_FOLDER).glob("*.pem"))
    assert all(path.stat().st_mode & 0o777 == 0o600 for path in files)
    return files


# --- the ring's timeline -------------------------------------------------------------------


def test_a_new_key_is_published_at_once_and_signs_after_a_jwks_refresh(tmp_path: Path) -> None:
    clock = FakeClock()
    ring = ring_at(tmp_path, clock)
    signer = JwtSigner(ring, issuer=ISSUER, audience=AUDIENCE, ttl_seconds=TTL)
    customer = Customer("c1", "a@b.io", "A", "hash", Role.CUSTOMER)
    old = ring.signing_key()
    clock.now += 5
    new = ring.rotate()

    assert new.signs_from.timestamp() - clock.now >= PUBLISH_AHEAD_SECONDS
    assert PUBLISH_AHEAD_SECONDS > JWKS_MIN_REFRESH_SECONDS
    assert statuses(ring) == [(old.kid, "signing"), (new.kid, "next")]
    assert {key["kid"] for key in ring.jwks()["keys"]} == set(ring.public_keys())
    assert set(ring.public_keys()) == {old.kid, new.kid}

    clock.now = new.signs_from.timestamp() - 1
    assert kid_of(signer.issue(customer).access_token) == old.kid
    clock.now = new.signs_from.timestamp()
    assert kid_of(signer.issue(customer).access_token) == new.kid
    assert statuses(ring) == [(old.kid, "retired"), (new.kid, "signing")]


def test_a_retired_key_stays_published_until_its_last_token_has_expired(tmp_path: Path) -> None:
    clock = FakeClock()
    ring = ring_at(tmp_path, clock)
    old = ring.signing_key()
    new = ring.rotate()
    last_token_valid_until = new.signs_from.timestamp() + TTL + LEEWAY_SECONDS

    clock.now = last_token_valid_until - 1
    [retired, _] = ring.states()
    assert (retired.key.kid, retired.status) == (old.kid, "retired")
    assert retired.published_until is not None
    assert retired.published_until.timestamp() == last_token_valid_until
    assert ring.prune() == []
    assert len(private_files(tmp_path)) == 2

    clock.now = last_token_valid_until
    assert set(ring.public_keys()) == {new.kid}
    assert [key["kid"] for key in ring.jwks()["keys"]] == [new.kid]
    assert [key.kid for key in ring.prune()] == [old.kid]
    assert private_files(tmp_path) == [new.path]


def test_a_running_ring_sees_a_rotation_made_by_another_process(tmp_path: Path) -> None:
    """Identity's ring reads the folder again when its modification time changes."""
    clock = FakeClock()
    first = ring_at(tmp_path, clock).signing_key()
    an_hour_ago = time.time() - 3600
    os.utime(tmp_path / KEYS_FOLDER, (an_hour_ago, an_hour_ago))
    identity = KeyRing(tmp_path, token_ttl_seconds=TTL, clock=clock)
    assert set(identity.public_keys()) == {first.kid}

    new = KeyRing(tmp_path, token_ttl_seconds=TTL, clock=clock).rotate()
    assert set(identity.public_keys()) == {first.kid, new.kid}
    clock.now = new.signs_from.timestamp()
    assert identity.signing_key().kid == new.kid


def test_a_single_key_data_folder_keeps_its_key_and_its_tokens(tmp_path: Path) -> None:
    legacy = Ed25519PrivateKey.from_private_bytes(base64.urlsafe_b64decode(RFC_8037_KEY + "="))
    pem = legacy.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    write_new_secret(tmp_path / LEGACY_KEY_FILE, pem)
    now = int(time.time())
    claims = {"sub": "c1", "role": "customer", "iss": ISSUER, "aud": AUDIENCE}
    times = {"iat": now, "nbf": now, "exp": now + TTL}
    headers = {"kid": RFC_8037_THUMBPRINT, "typ": "at+jwt"}
    issued_before = jwt.encode({**claims, **times}, legacy, algorithm="EdDSA", headers=headers)

    ring = KeyRing.load_or_create(tmp_path, token_ttl_seconds=TTL)
    assert statuses(ring) == [(RFC_8037_THUMBPRINT, "signing")]
    assert not (tmp_path / LEGACY_KEY_FILE).exists()
    assert [path.read_bytes() for path in private_files(tmp_path)] == [pem]
    verifier = TokenVerifier(ring.public_keys, issuer=ISSUER, audience=AUDIENCE)
    assert verifier.verify(issued_before).customer_id == "c1"


# --- shoplab keys rotate -------------------------------------------------------------------


def rotate(data_dir: Path, **env: str) -> str:
    result = CliRunner().invoke(
        keys_app, ["rotate", "--data-dir", str(data_dir)], env={"COLUMNS": "200", **env}
    )
    assert result.exit_code == 0, result.output
    return result.output


def test_keys_rotate_on_a_stopped_data_folder(tmp_path: Path) -> None:
    first = KeyRing.load_or_create(tmp_path, token_ttl_seconds=TTL).signing_key()
    output = rotate(tmp_path)

    ring = KeyRing(tmp_path, token_ttl_seconds=TTL)
    [current, upcoming] = ring.states()
    assert (current.key.kid, current.status, upcoming.status) == (first.kid, "signing", "next")
    ahead = (upcoming.key.signs_from - ring.now()).total_seconds()
    assert PUBLISH_AHEAD_SECONDS - 2 <= ahead <= PUBLISH_AHEAD_SECONDS + 1
    assert f"New signing key {upcoming.key.kid}: published now, signs from" in output
    assert first.kid in output
    assert len(private_files(tmp_path)) == 2


def test_keys_rotate_moves_a_single_key_folder_into_the_ring(tmp_path: Path) -> None:
    pem = Ed25519PrivateKey.generate().private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    write_new_secret(tmp_path / LEGACY_KEY_FILE, pem)
    rotate(tmp_path)
    ring = KeyRing(tmp_path, token_ttl_seconds=TTL)
    assert [state.status for state in ring.states()] == ["signing", "next"]
    assert private_files(tmp_path)[0].read_bytes() == pem
    assert not (tmp_path / LEGACY_KEY_FILE).exists()


def test_keys_rotate_deletes_the_keys_whose_tokens_have_all_expired(tmp_path: Path) -> None:
    """It reads the token lifetime as the services do: with 900 s the old key would stay."""
    past = FakeClock(time.time() - 500)
    expired = ring_at(tmp_path, past).signing_key()
    current = KeyRing(tmp_path, token_ttl_seconds=TTL, clock=past).rotate()
    output = rotate(tmp_path, SHOPLAB_TOKEN_TTL_SECONDS=str(TTL))
    assert f"Deleted the key(s) whose tokens have all expired: {expired.kid}." in output
    ring = KeyRing(tmp_path, token_ttl_seconds=TTL)
    [signing, upcoming] = ring.states()
    assert (signing.key.kid, signing.status, upcoming.status) == (current.kid, "signing", "next")
    assert not expired.path.exists()
    assert len(private_files(tmp_path)) == 2


# --- a running identity, and the gateway's view of it -------------------------------------


@asynccontextmanager
async def identity_service(data_dir: Path, clock: FakeClock) -> AsyncIterator[httpx.AsyncClient]:
    """The identity context's real HTTP app, in-process, with its ring on ``clock``."""
    settings = PlatformSettings(
        data_dir=data_dir,
        admin_password=PASSWORD,
        jwt_issuer=ISSUER,
        jwt_audience=AUDIENCE,
        token_ttl_seconds=TTL,
    )
    database = Database(f"sqlite:///{data_dir / 'identity.db'}")
    identity = IdentityContext(database, settings, keys=ring_at(data_dir, clock))
    await identity.start()
    app = create_app(
        title="identity",
        routers=[identity.router()],
        readiness={},
    )
    try:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://identity") as http:
            yield http
    finally:
        await database.dispose()


def edge_of(http: httpx.AsyncClient, clock: FakeClock, fetches: list[float]) -> EdgeAuthenticator:
    """The gateway's authentication, fetching identity's JWKS over ``http``."""

    async def fetch() -> dict[str, object]:
        fetches.append(clock.now)
        answer = await http.get("/.well-known/jwks.json")
        document: dict[str, object] = answer.json()
        return document

    cache = JwksCache(fetch, clock=clock)
    verifier = TokenVerifier(cache.current, issuer=ISSUER, audience=AUDIENCE)
    return EdgeAuthenticator(verifier, cache, ServiceCredentials(b"g" * 32, "gateway"))


async def sign_in(http: httpx.AsyncClient) -> str:
    answer = await http.post("/api/auth/token", json={"email": ADMIN_EMAIL, "password": PASSWORD})
    assert answer.status_code == 200, answer.text
    return str(answer.json()["access_token"])


async def admitted(edge: EdgeAuthenticator, token: str) -> bool:
    principal = await edge.principal(f"Bearer {token}")
    return principal is not None and principal.is_admin


async def test_tokens_from_before_and_after_a_rotation_pass_the_edge(tmp_path: Path) -> None:
    clock = FakeClock(time.time())
    fetches: list[float] = []
    async with identity_service(tmp_path, clock) as http:
        edge = edge_of(http, clock, fetches)
        before = await sign_in(http)
        assert await admitted(edge, before)

        clock.now += 10
        new = KeyRing(tmp_path, token_ttl_seconds=TTL, clock=clock).rotate()  # keys rotate
        during = await sign_in(http)
        assert kid_of(during) == kid_of(before)
        clock.now = new.signs_from.timestamp()
        after = await sign_in(http)
        assert kid_of(after) == new.kid

        for token in (before, during, after):
            assert await admitted(edge, token)
        assert len(fetches) == 2


async def test_a_key_that_signed_at_once_would_be_refused_at_the_edge(tmp_path: Path) -> None:
    """Why the ring publishes ahead: the edge learns a new kid at most once a minute."""
    clock = FakeClock(time.time())
    fetches: list[float] = []
    async with identity_service(tmp_path, clock) as http:
        edge = edge_of(http, clock, fetches)
        assert await admitted(edge, await sign_in(http))
        started = clock.now

        clock.now += 10
        hasty = KeyRing(tmp_path, token_ttl_seconds=TTL, clock=clock, publish_ahead_seconds=0)
        new = hasty.rotate()
        clock.now = max(clock.now, new.signs_from.timestamp())
        after = await sign_in(http)
        assert kid_of(after) == new.kid
        assert not await admitted(edge, after)

        clock.now = started + JWKS_MIN_REFRESH_SECONDS
        assert await admitted(edge, after)
