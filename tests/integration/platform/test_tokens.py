"""Access tokens: issued by identity, verified by the chassis, forgeries refused (RFC 8725)."""

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
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from jwt.algorithms import OKPAlgorithm

from shoplab.identity.adapters.signing_keys import KEYS_FOLDER, KeyRing, RingKey
from shoplab.identity.adapters.tokens import JwtSigner
from shoplab.identity.domain.model import Customer, Role
from shoplab.platform.auth import LEEWAY_SECONDS, InvalidToken, TokenVerifier

ISSUER, AUDIENCE = "shoplab-identity", "shoplab-api"
ACCESS = {"typ": "at+jwt"}


@pytest.fixture
def ring(tmp_path: Path) -> KeyRing:
    return KeyRing.load_or_create(tmp_path, token_ttl_seconds=300)


@pytest.fixture
def key(ring: KeyRing) -> RingKey:
    return ring.signing_key()


@pytest.fixture
def verifier(ring: KeyRing) -> TokenVerifier:
    return TokenVerifier(ring.public_keys, issuer=ISSUER, audience=AUDIENCE)


def claims(**overrides: Any) -> dict[str, Any]:
    """Valid claims; a ``timedelta`` value is an offset from now, taken when the test runs."""
    now = datetime.now(UTC)
    base: dict[str, Any] = {
        "sub": "c1",
        "role": "customer",
        "iss": ISSUER,
        "aud": AUDIENCE,
        "iat": now,
        "nbf": now,
        "exp": now + timedelta(minutes=5),
    }
    resolved = {k: now + v if isinstance(v, timedelta) else v for k, v in overrides.items()}
    return {**base, **resolved}


def sign(key: RingKey, payload: dict[str, Any], **header: Any) -> str:
    headers = {"kid": key.kid, **ACCESS, **header}
    return jwt.encode(payload, key.private_key, algorithm="EdDSA", headers=headers)


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def unsigned_json(document: dict[str, Any]) -> str:
    return b64(json.dumps(document, default=lambda d: int(d.timestamp())).encode())


def test_the_first_key_is_created_once_and_kept_private(tmp_path: Path, key: RingKey) -> None:
    again = KeyRing.load_or_create(tmp_path, token_ttl_seconds=300)
    assert again.signing_key().kid == key.kid
    [path] = (tmp_path / KEYS_FOLDER).glob("*.pem")
    assert path.stat().st_mode & 0o777 == 0o600
    assert (tmp_path / KEYS_FOLDER).stat().st_mode & 0o777 == 0o700
    [jwk] = again.jwks()["keys"]
    assert (jwk["kty"], jwk["crv"], jwk["kid"], jwk["alg"]) == ("OKP", "Ed25519", key.kid, "EdDSA")
    assert "d" not in jwk


def test_an_issued_token_verifies_and_says_it_is_an_access_token(
    ring: KeyRing, key: RingKey, verifier: TokenVerifier
) -> None:
    signer = JwtSigner(ring, issuer=ISSUER, audience=AUDIENCE, ttl_seconds=300)
    token = signer.issue(Customer("c9", "a@b.io", "A", "hash", Role.ADMIN))
    principal = verifier.verify(token.access_token)
    assert (principal.customer_id, principal.is_admin, token.expires_in) == ("c9", True, 300)
    header = jwt.get_unverified_header(token.access_token)
    assert (header["typ"], header["kid"], header["alg"]) == ("at+jwt", key.kid, "EdDSA")
    issued = jwt.decode(token.access_token, options={"verify_signature": False})
    assert issued["nbf"] == issued["iat"] == issued["exp"] - 300


@pytest.mark.parametrize(
    "overrides",
    [
        {"exp": timedelta(seconds=-LEEWAY_SECONDS - 5)},
        {"nbf": timedelta(seconds=LEEWAY_SECONDS + 5)},
        {"iat": timedelta(minutes=5)},
        {"aud": "someone-else"},
        {"iss": "https://evil.example"},
        {"role": "root"},
        {"role": "service"},
    ],
    ids=["expired", "not-yet-valid", "issued-in-the-future", "audience", "issuer", "role", "svc"],
)
def test_wrong_claims_are_refused(
    key: RingKey, verifier: TokenVerifier, overrides: dict[str, Any]
) -> None:
    with pytest.raises(InvalidToken):
        verifier.verify(sign(key, claims(**overrides)))


@pytest.mark.parametrize(
    "overrides",
    [
        {"exp": timedelta(seconds=-LEEWAY_SECONDS + 3)},
        {"nbf": timedelta(seconds=LEEWAY_SECONDS - 3)},
        {"iat": timedelta(seconds=LEEWAY_SECONDS - 3)},
    ],
    ids=["just-expired", "almost-valid", "issued-a-moment-ahead"],
)
def test_clocks_may_differ_by_the_leeway(
    key: RingKey, verifier: TokenVerifier, overrides: dict[str, Any]
) -> None:
    assert verifier.verify(sign(key, claims(**overrides))).customer_id == "c1"


@pytest.mark.parametrize("claim", ["exp", "nbf", "iat", "sub", "iss", "aud"])
def test_a_token_without_a_required_claim_is_refused(
    key: RingKey, verifier: TokenVerifier, claim: str
) -> None:
    payload = claims()
    del payload[claim]
    with pytest.raises(InvalidToken):
        verifier.verify(sign(key, payload))


def foreign_jwk() -> dict[str, Any]:
    jwk: dict[str, Any] = OKPAlgorithm.to_jwk(
        Ed25519PrivateKey.generate().public_key(), as_dict=True
    )
    return jwk


@pytest.mark.parametrize(
    "header",
    [
        {"jku": "https://evil.example/jwks.json"},
        {"x5u": "https://evil.example/cert.pem"},
        {"jwk": foreign_jwk()},
        {"x5c": ["MIIBfake"]},
        {"crit": ["exp"]},
    ],
    ids=["jku", "x5u", "jwk", "x5c", "crit"],
)
def test_a_header_that_points_at_a_key_or_adds_rules_is_refused(
    key: RingKey, verifier: TokenVerifier, header: dict[str, Any]
) -> None:
    """Signed by the real key, so only the header is wrong."""
    with pytest.raises(InvalidToken):
        verifier.verify(sign(key, claims(), **header))


def test_a_token_carrying_its_own_key_is_refused_even_when_signed_by_it(
    key: RingKey, verifier: TokenVerifier
) -> None:
    """The embedded-key attack: sign with your own key, put it in ``jwk``, reuse a known kid."""
    attacker = Ed25519PrivateKey.generate()
    jwk = OKPAlgorithm.to_jwk(attacker.public_key(), as_dict=True)
    headers = {"kid": key.kid, "jwk": jwk, **ACCESS}
    token = jwt.encode(claims(), attacker, algorithm="EdDSA", headers=headers)
    with pytest.raises(InvalidToken):
        verifier.verify(token)


@pytest.mark.parametrize("typ", ["JWT", "jwt", "shoplab-internal+jwt", "at+jwt2", "", None])
def test_anything_but_an_access_token_type_is_refused(
    key: RingKey, verifier: TokenVerifier, typ: str | None
) -> None:
    """``""`` and ``None`` leave the ``typ`` header out."""
    with pytest.raises(InvalidToken):
        verifier.verify(sign(key, claims(), typ=typ))


@pytest.mark.parametrize("typ", ["at+jwt", "AT+JWT", "application/at+jwt"])
def test_the_access_token_type_compares_as_a_media_type(
    key: RingKey, verifier: TokenVerifier, typ: str
) -> None:
    assert verifier.verify(sign(key, claims(), typ=typ)).customer_id == "c1"


def test_alg_none_is_refused(key: RingKey, verifier: TokenVerifier) -> None:
    header = unsigned_json({"alg": "none", "kid": key.kid, **ACCESS})
    with pytest.raises(InvalidToken):
        verifier.verify(f"{header}.{unsigned_json(claims())}.")


def test_hs256_signed_with_the_public_key_is_refused(key: RingKey, verifier: TokenVerifier) -> None:
    public_pem = key.public_key.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    header = unsigned_json({"alg": "HS256", "kid": key.kid, **ACCESS})
    body = unsigned_json(claims())
    mac = hmac.new(public_pem, f"{header}.{body}".encode(), hashlib.sha256).digest()
    with pytest.raises(InvalidToken):
        verifier.verify(f"{header}.{body}.{b64(mac)}")


def test_a_token_from_another_key_is_refused(tmp_path: Path, verifier: TokenVerifier) -> None:
    stranger = KeyRing.load_or_create(tmp_path / "other", token_ttl_seconds=300).signing_key()
    with pytest.raises(InvalidToken):
        verifier.verify(sign(stranger, claims()))


@pytest.mark.parametrize("token", ["", "garbage", "a.b.c", "a.b"])
def test_garbage_is_refused(verifier: TokenVerifier, token: str) -> None:
    with pytest.raises(InvalidToken):
        verifier.verify(token)
