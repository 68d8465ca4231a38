"""Access tokens: EdDSA-signed JWTs carrying the customer id and role."""

import uuid
from datetime import UTC, datetime, timedelta

import jwt

from shoplab.identity.adapters.signing_keys import SigningKeys
from shoplab.identity.domain.model import AccessToken, Customer


class JwtSigner:
    def __init__(self, keys: SigningKeys, *, issuer: str, audience: str, ttl_seconds: int) -> None:
        self._keys = keys
        self._issuer = issuer
        self._audience = audience
        self._ttl = ttl_seconds

    def issue(self, customer: Customer) -> AccessToken:
        now = datetime.now(UTC)
        claims = {
            "sub": customer.customer_id,
            "role": customer.role.value,
            "iss": self._issuer,
            "aud": self._audience,
            "iat": now,
            "nbf": now,
            "exp": now + timedelta(seconds=self._ttl),
            "jti": str(uuid.uuid4()),
        }
        token = jwt.encode(
            claims, self._keys.private_key, algorithm="EdDSA", headers={"kid": self._keys.kid}
        )
        return AccessToken(access_token=token, expires_in=self._ttl)
