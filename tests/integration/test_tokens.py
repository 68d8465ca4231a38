"""Access tokens: issued by identity, verified by the chassis, forgeries refused."""

import base64
import hashlib
import hmac
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives import serialization

from shoplab.identity.adapters.signing_keys import KEY_FILE, SigningKeys
from shoplab.identity.adapters.tokens import JwtSigner
from shoplab.identity.domain.model import Customer, Role
from shoplab.platform.auth import InvalidToken, TokenVerifier

ISSUER, AUDIENCE = "shoplab-identity", "shoplab-api"


@pytest.fixture
def keys(tmp_path: Path) -> SigningKeys:
    return SigningKeys.load_or_create(tmp_path)


@pytest.fixture
def verifier(keys: SigningKeys) -> TokenVerifier:
    return TokenVerifier(keys.public_keys, issuer=ISSUER, audience=AUDIENCE)


def claims(**overrides: Any) -> dict[str, Any]:
    now = datetime.now(UTC)
    base = {
        "sub": "c1",
        "role": "customer",
        "iss": ISSUER,
        "aud": AUDIENCE,
        "iat": now,
        "exp": now + timedelta(minutes=5),
    }
    return {**base, **overrides}


def sign(keys: SigningKeys, payload: dict[str, Any]) -> str:
    return jwt.encode(payload, keys.private_key, algorithm="EdDSA", headers={"kid": keys.kid})


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def test_the_key_is_created_once_and_kept(tmp_path: Path, keys: SigningKeys) -> None:
    again = SigningKeys.load_or_create(tmp_path)
    assert again.kid == keys.kid
    assert (tmp_path / KEY_FILE).stat().st_mode & 0o777 == 0o600
    jwk = keys.jwks()["keys"][0]
    assert (jwk["kty"], jwk["crv"], jwk["kid"], jwk["alg"]) == ("OKP", "Ed25519", keys.kid, "EdDSA")


def test_an_issued_token_verifies(keys: SigningKeys, verifier: TokenVerifier) -> None:
    signer = JwtSigner(keys, issuer=ISSUER, audience=AUDIENCE, ttl_seconds=300)
    token = signer.issue(Customer("c9", "a@b.io", "A", "hash", Role.ADMIN))
    principal = verifier.verify(token.access_token)
    assert (principal.customer_id, principal.is_admin, token.expires_in) == ("c9", True, 300)


@pytest.mark.parametrize(
    "overrides",
    [
        {"exp": timedelta(minutes=-1)},
        {"aud": "someone-else"},
        {"iss": "https://evil.example"},
        {"role": "root"},
        {"nbf": timedelta(minutes=5)},
    ],
    ids=["expired", "audience", "issuer", "role", "not-yet-valid"],
)
def test_wrong_claims_are_refused(
    keys: SigningKeys, verifier: TokenVerifier, overrides: dict[str, Any]
) -> None:
    """Times are offsets from now, taken when the test runs (not when it is collected)."""
    now = datetime.now(UTC)
    resolved = {k: now + v if isinstance(v, timedelta) else v for k, v in overrides.items()}
    with pytest.raises(InvalidToken):
        verifier.verify(sign(keys, claims(**resolved)))


def test_a_token_without_exp_is_refused(keys: SigningKeys, verifier: TokenVerifier) -> None:
    payload = claims()
    del payload["exp"]
    with pytest.raises(InvalidToken):
        verifier.verify(sign(keys, payload))


def test_alg_none_is_refused(keys: SigningKeys, verifier: TokenVerifier) -> None:
    header = b64(json.dumps({"alg": "none", "kid": keys.kid}).encode())
    body = b64(json.dumps(claims(), default=lambda d: int(d.timestamp())).encode())
    with pytest.raises(InvalidToken):
        verifier.verify(f"{header}.{body}.")


def test_hs256_signed_with_the_public_key_is_refused(
    keys: SigningKeys, verifier: TokenVerifier
) -> None:
    public_pem = keys.public_key.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    header = b64(json.dumps({"alg": "HS256", "kid": keys.kid}).encode())
    body = b64(json.dumps(claims(), default=lambda d: int(d.timestamp())).encode())
    mac = hmac.new(public_pem, f"{header}.{body}".encode(), hashlib.sha256).digest()
    with pytest.raises(InvalidToken):
        verifier.verify(f"{header}.{body}.{b64(mac)}")


def test_a_token_from_another_key_is_refused(tmp_path: Path, verifier: TokenVerifier) -> None:
    stranger = SigningKeys.load_or_create(tmp_path / "other")
    with pytest.raises(InvalidToken):
        verifier.verify(sign(stranger, claims()))


@pytest.mark.parametrize("token", ["", "garbage", "a.b.c", "a.b"])
def test_garbage_is_refused(verifier: TokenVerifier, token: str) -> None:
    with pytest.raises(InvalidToken):
        verifier.verify(token)
