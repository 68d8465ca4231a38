"""Access tokens: EdDSA-signed JWTs carrying the customer id and role.

Each token is signed by the ring's current key and names it by ``kid``; its header
says ``typ: at+jwt`` (RFC 9068), which verifiers require, so no other kind of JWT can
pass for an access token.
"""

import uuid
from datetime import UTC, datetime, timedelta

import jwt

from shoplab.identity.adapters.signing_keys import KeyRing
from shoplab.identity.domain.model import AccessToken, Customer
from shoplab.platform.auth import ACCESS_TOKEN_TYPE, ALGORITHM


class JwtSigner:
    def __init__(self, keys: KeyRing, *, issuer: str, audience: str, ttl_seconds: int) -> None:
        self._keys = keys
        self._issuer = issuer
        self._audience = audience
        self._ttl = ttl_seconds

    def issue(self, customer: Customer) -> AccessToken:
        key = self._keys.signing_key()
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
        headers = {"kid": key.kid, "typ": ACCESS_TOKEN_TYPE}
        token = jwt.encode(claims, key.private_key, algorithm=ALGORITHM, headers=headers)
        return AccessToken(access_token=token, expires_in=self._ttl)
