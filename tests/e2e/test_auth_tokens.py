"""Access tokens: every kind of invalid or forged token is refused with 401.

Forged tokens are minted with the system's own signing key (read from its data folder) and
the header and claims copied from a real token, so each one is wrong in exactly one way; a
control test shows that a correctly minted token is accepted. The header checks follow
RFC 8725: a token that names a key to fetch (``jku``, ``x5u``), carries one (``jwk``,
``x5c``), declares ``crit`` extensions, or is not typed ``at+jwt`` is refused even when the
system's own key signed it. An internal token (the microservices' own kind) counts as none.

Tokens are checked at the edge, before any database or broker: the modes that vary only
behind it (PostgreSQL, RabbitMQ, choreography, scaled) add nothing here, so the module runs
against the monolith and the microservices (``lifecycle_only``).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519, rsa

from shoplab.identity.adapters.signing_keys import KEYS_FOLDER
from shoplab.platform.auth import Principal
from shoplab.platform.internal_auth import SECRET_FILE, ServiceCredentials

from .api import Customer, System, assert_problem, expect_json

pytestmark = pytest.mark.lifecycle_only


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def b64url_json(document: dict[str, Any]) -> str:
    return b64url(json.dumps(document, separators=(",", ":")).encode())


def b64url_decode(segment: str) -> bytes:
    return base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4))


@dataclass
class TokenKit:
    """The signing key and a real token's header and claims, to forge variations from."""

    real_token: str
    header: dict[str, Any]
    claims: dict[str, Any]
    private_key: Any
    service_secret: bytes
    """The run's internal-token secret (microservices), else one the system never saw."""

    @property
    def alg(self) -> str:
        return str(self.header["alg"])

    @property
    def kid(self) -> str:
        return str(self.header["kid"])

    def fresh_claims(self, **changes: Any) -> dict[str, Any]:
        now = int(time.time())
        claims = {**self.claims, "iat": now, "exp": now + 600}
        claims.update(changes)
        return claims

    def mint(
        self,
        key: Any = None,
        kid: str | None = None,
        header: dict[str, Any] | None = None,
        **changes: Any,
    ) -> str:
        """A token signed like the system's, ``header`` added to its header and ``changes``
        applied to its claims (a ``None`` value drops the claim or header parameter)."""
        headers = {"kid": self.kid if kid is None else kid, "typ": self.header["typ"]}
        claims = {k: v for k, v in self.fresh_claims(**changes).items() if v is not None}
        return jwt.encode(
            claims,
            self.private_key if key is None else key,
            algorithm=self.alg,
            headers={**headers, **(header or {})},
        )

    def public_jwk(self, key: Any) -> dict[str, Any]:
        jwk: dict[str, Any] = json.loads(jwt.get_algorithm_by_name(self.alg).to_jwk(key))
        return jwk

    def embedded_key(self) -> str:
        """The embedded-key attack: signed by the attacker's key, which the header carries."""
        attacker = self.foreign_key()
        return self.mint(key=attacker, header={"jwk": self.public_jwk(attacker.public_key())})

    def internal(self) -> str:
        """An internal token naming the real token's customer, as the gateway mints them."""
        credentials = ServiceCredentials(self.service_secret, "gateway")
        return credentials.mint(Principal(str(self.claims["sub"]), str(self.claims["role"])))

    def public_pem(self) -> bytes:
        key = self.private_key.public_key()
        pem: bytes = key.public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
        return pem

    def public_raw(self) -> bytes:
        key = self.private_key.public_key()
        if isinstance(key, ed25519.Ed25519PublicKey):
            return key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
        der: bytes = key.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.PKCS1)
        return der

    def foreign_key(self) -> Any:
        if isinstance(self.private_key, ed25519.Ed25519PrivateKey):
            return ed25519.Ed25519PrivateKey.generate()
        return rsa.generate_private_key(public_exponent=65537, key_size=2048)

    def hs256(self, secret: bytes) -> str:
        """An HS256 token keyed with public material: the classic algorithm-confusion attack."""
        signing_input = (
            f"{b64url_json({'alg': 'HS256', 'typ': self.header['typ'], 'kid': self.kid})}."
            f"{b64url_json(self.fresh_claims())}"
        )
        signature = hmac.new(secret, signing_input.encode(), hashlib.sha256).digest()
        return f"{signing_input}.{b64url(signature)}"

    def unsigned(self) -> str:
        header = b64url_json({"alg": "none", "typ": self.header["typ"], "kid": self.kid})
        return f"{header}.{b64url_json(self.fresh_claims())}."

    def tampered(self, **changes: Any) -> str:
        """The real token with its payload edited and the original signature kept."""
        header, payload, signature = self.real_token.split(".")
        claims = json.loads(b64url_decode(payload))
        claims.update(changes)
        return f"{header}.{b64url_json(claims)}.{signature}"


def signing_key_file(data_dir: Path, kid: str) -> Path:
    """The file of the key ``kid`` in the data folder's key ring."""
    [path] = (data_dir / KEYS_FOLDER).glob(f"*-{kid}.pem")
    return path


@pytest.fixture
def kit(system: System, customer: Customer) -> TokenKit:
    header = jwt.get_unverified_header(customer.token)
    key_pem = signing_key_file(system.data_dir, header["kid"]).read_bytes()
    private_key = serialization.load_pem_private_key(key_pem, password=None)
    secret_file = system.data_dir / SECRET_FILE
    return TokenKit(
        real_token=customer.token,
        header=header,
        claims=jwt.decode(customer.token, options={"verify_signature": False}),
        private_key=private_key,
        service_secret=(
            secret_file.read_bytes().strip() if secret_file.exists() else secrets.token_bytes(32)
        ),
    )


def bad_aud(kit: TokenKit) -> Any:
    aud = kit.claims["aud"]
    return [f"{value}-other" for value in aud] if isinstance(aud, list) else f"{aud}-other"


FORGERIES: dict[str, Callable[[TokenKit], str]] = {
    "garbage": lambda kit: "not-a-jwt",
    "three-garbage-segments": lambda kit: "abc.def.ghi",
    "expired": lambda kit: kit.mint(iat=int(time.time()) - 3600, exp=int(time.time()) - 300),
    "wrong-aud": lambda kit: kit.mint(aud=bad_aud(kit)),
    "wrong-iss": lambda kit: kit.mint(iss=f"{kit.claims['iss']}-other"),
    "tampered-sub": lambda kit: kit.tampered(sub="00000000-0000-0000-0000-000000000000"),
    "tampered-exp": lambda kit: kit.tampered(exp=int(time.time()) + 86_400 * 365),
    "alg-none": lambda kit: kit.unsigned(),
    "hs256-public-pem": lambda kit: kit.hs256(kit.public_pem()),
    "hs256-public-raw": lambda kit: kit.hs256(kit.public_raw()),
    "foreign-key-same-kid": lambda kit: kit.mint(key=kit.foreign_key()),
    "foreign-key-unknown-kid": lambda kit: kit.mint(key=kit.foreign_key(), kid="e2e-unknown"),
    "truncated-signature": lambda kit: kit.real_token[:-6],
    "not-yet-valid": lambda kit: kit.mint(nbf=int(time.time()) + 300),
    "no-nbf": lambda kit: kit.mint(nbf=None),
    "no-typ": lambda kit: kit.mint(header={"typ": None}),
    "typ-jwt": lambda kit: kit.mint(header={"typ": "JWT"}),
    "jku": lambda kit: kit.mint(header={"jku": "https://evil.example/jwks.json"}),
    "x5u": lambda kit: kit.mint(header={"x5u": "https://evil.example/cert.pem"}),
    "jwk": lambda kit: kit.mint(header={"jwk": kit.public_jwk(kit.private_key.public_key())}),
    "x5c": lambda kit: kit.mint(header={"x5c": ["MIIBfake"]}),
    "crit": lambda kit: kit.mint(header={"crit": ["exp"]}),
    "embedded-key": lambda kit: kit.embedded_key(),
    "internal-token": lambda kit: kit.internal(),
}


async def test_control_minted_token_is_accepted(client: httpx.AsyncClient, kit: TokenKit) -> None:
    """A token minted with the signing key and the real claims works, so the 401s are real."""
    response = await client.get("/api/orders", headers={"Authorization": f"Bearer {kit.mint()}"})
    assert expect_json(response, 200) == {"items": []}


@pytest.mark.parametrize("forgery", list(FORGERIES))
async def test_forged_or_invalid_token_is_401(
    client: httpx.AsyncClient, kit: TokenKit, forgery: str
) -> None:
    token = FORGERIES[forgery](kit)
    response = await client.get("/api/orders", headers={"Authorization": f"Bearer {token}"})
    assert_problem(response, 401)


@pytest.mark.parametrize(
    "authorization",
    [None, "", "Bearer", "Basic dXNlcjpwYXNz", "{token}", "Token {token}", "Bearer {token}x"],
    ids=["absent", "empty", "bearer-only", "basic", "no-scheme", "wrong-scheme", "token-suffix"],
)
async def test_missing_or_malformed_authorization_is_401(
    client: httpx.AsyncClient, customer: Customer, authorization: str | None
) -> None:
    headers = {}
    if authorization is not None:
        headers["Authorization"] = authorization.format(token=customer.token)
    assert_problem(await client.get("/api/orders", headers=headers), 401)


async def test_tampered_role_does_not_grant_admin(client: httpx.AsyncClient, kit: TokenKit) -> None:
    """Editing the role claim without re-signing is caught before authorisation."""
    token = kit.tampered(role="admin")
    response = await client.get(
        "/api/admin/notifications",
        params={"order_id": "x"},
        headers={"Authorization": f"Bearer {token}"},
    )
    assert_problem(response, 401)


async def test_customer_token_on_admin_route_is_403(
    client: httpx.AsyncClient, customer: Customer
) -> None:
    response = await client.get(
        "/api/admin/notifications", params={"order_id": "x"}, headers=customer.headers
    )
    assert_problem(response, 403)
