"""Verifying access tokens at the edge, and the principal they prove.

Tokens are EdDSA-signed JWTs. Verification pins the algorithm (so ``none`` and
HS256-with-the-public-key are refused), finds the key by ``kid``, and requires
``exp``, ``iat``, ``sub``, ``iss`` and ``aud`` with the expected issuer and
audience. The keys come from a callable so a key rotation needs no restart.
"""

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Annotated, Protocol

import jwt
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from fastapi import Depends
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from shoplab.platform.errors import Forbidden, Unauthorized

ALGORITHM = "EdDSA"
ADMIN = "admin"
CUSTOMER = "customer"
SERVICE = "service"
"""A service calling another on its own behalf (microservices mode only)."""
ANONYMOUS = "anonymous"
"""A caller the gateway could not identify, forwarded as such (microservices mode only)."""


@dataclass(frozen=True)
class Principal:
    customer_id: str
    role: str

    @property
    def is_admin(self) -> bool:
        return self.role == ADMIN


class InvalidToken(Unauthorized):
    def __init__(self) -> None:
        super().__init__("A valid bearer token is required.")


class TokenVerifier:
    def __init__(
        self,
        public_keys: Callable[[], Mapping[str, Ed25519PublicKey]],
        *,
        issuer: str,
        audience: str,
        leeway_seconds: int = 10,
    ) -> None:
        self._public_keys = public_keys
        self._issuer = issuer
        self._audience = audience
        self._leeway = leeway_seconds

    def verify(self, token: str) -> Principal:
        try:
            kid = jwt.get_unverified_header(token).get("kid")
            key = self._public_keys().get(kid) if isinstance(kid, str) else None
            if key is None:
                raise InvalidToken
            claims = jwt.decode(
                token,
                key,
                algorithms=[ALGORITHM],
                audience=self._audience,
                issuer=self._issuer,
                leeway=self._leeway,
                options={"require": ["exp", "iat", "sub", "iss", "aud"]},
            )
        except jwt.PyJWTError as error:
            raise InvalidToken from error
        role = claims.get("role")
        if role not in (ADMIN, CUSTOMER):
            raise InvalidToken
        return Principal(customer_id=str(claims["sub"]), role=role)


class Verifier(Protocol):
    def verify(self, token: str) -> Principal: ...


_bearer = HTTPBearer(auto_error=False)
BearerCredentials = Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]


class Authenticator:
    """FastAPI dependencies: ``customer`` admits any signed-in caller, ``admin``
    administrators only."""

    def __init__(self, verifier: Verifier) -> None:
        self._verifier = verifier

    def customer(self, credentials: BearerCredentials) -> Principal:
        return self._caller(credentials, (ADMIN, CUSTOMER))

    def admin(self, credentials: BearerCredentials) -> Principal:
        return self._caller(credentials, (ADMIN,))

    def _caller(self, credentials: BearerCredentials, allowed: tuple[str, ...]) -> Principal:
        if credentials is None:
            raise InvalidToken
        principal = self._verifier.verify(credentials.credentials)
        if principal.role == CUSTOMER and CUSTOMER not in allowed:
            raise Forbidden("This operation needs an administrator.")
        if principal.role not in allowed:
            raise InvalidToken
        return principal
