"""Verifying access tokens at the edge, and the principal they prove.

Tokens are EdDSA-signed JWTs, checked as RFC 8725 (JWT best current practices) asks:

- the algorithm is pinned to EdDSA, so ``none`` and HS256 keyed with the public key
  are refused (3.1, 3.2);
- the header must name the type ``at+jwt`` (RFC 9068), so no other JWT, an internal
  token included, passes for an access token (3.11, 3.12);
- a header that points at a key (``jku``, ``x5u``), carries one (``jwk``, ``x5c``) or
  declares extensions we would have to understand (``crit``) is refused: the key comes
  only from the verifier's own set, found by ``kid``, and nothing a token names is fetched
  (3.10);
- ``iss`` and ``aud`` must be the expected ones (3.8, 3.9); ``exp``, ``nbf``, ``iat`` and
  ``sub`` must be present, and the times hold within ``LEEWAY_SECONDS``.

The keys come from a callable so a key rotation needs no restart. A token that passed is
remembered by its exact string until its ``exp`` (``token_cache``), and every one
remembered is forgotten as soon as the key set changes: a key withdrawn from the set takes
its tokens with it at once, as it would without the cache.
"""

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Annotated, Any, Protocol

import jwt
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from fastapi.security.utils import get_authorization_scheme_param

from shoplab.platform.errors import Forbidden, Unauthorized
from shoplab.platform.token_cache import DEFAULT_MAX_SIZE, Clock, ExpiringMap

ALGORITHM = "EdDSA"
ACCESS_TOKEN_TYPE = "at+jwt"
"""The ``typ`` header of an access token (RFC 9068); verifiers require it."""
LEEWAY_SECONDS = 10
"""The clock difference tolerated between identity and a verifier on ``exp``, ``nbf``, ``iat``."""
JWKS_MIN_REFRESH_SECONDS = 60.0
"""A verifier that caches the keys asks identity again at most this often."""
REQUIRED_CLAIMS = ["exp", "nbf", "iat", "sub", "iss", "aud"]
REFUSED_HEADERS = frozenset({"jku", "x5u", "jwk", "x5c", "crit"})
"""Header parameters that would let a token choose its key or its rules (RFC 7515 4.1)."""

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


def checked_header(token: str, token_type: str) -> dict[str, Any]:
    """The token's header, if it names ``token_type`` and no key of its own; else InvalidToken.

    ``typ`` compares without case and with or without ``application/`` (RFC 7515 4.1.9).
    """
    try:
        header = jwt.get_unverified_header(token)
    except jwt.PyJWTError as error:
        raise InvalidToken from error
    typ = header.get("typ")
    if not isinstance(typ, str) or typ.lower().removeprefix("application/") != token_type:
        raise InvalidToken
    if REFUSED_HEADERS & header.keys():
        raise InvalidToken
    return header


def access_token_kid(token: str) -> str:
    """The ``kid`` of a token whose header is an access token's; else InvalidToken.

    Checked before any key is looked up, so a token of the wrong kind never makes a
    verifier fetch keys.
    """
    header = checked_header(token, ACCESS_TOKEN_TYPE)
    kid = header.get("kid")
    if header.get("alg") != ALGORITHM or not isinstance(kid, str):
        raise InvalidToken
    return kid


class TokenVerifier:
    def __init__(
        self,
        public_keys: Callable[[], Mapping[str, Ed25519PublicKey]],
        *,
        issuer: str,
        audience: str,
        leeway_seconds: int = LEEWAY_SECONDS,
        clock: Clock = time.time,
        max_cached: int = DEFAULT_MAX_SIZE,
    ) -> None:
        self._public_keys = public_keys
        self._issuer = issuer
        self._audience = audience
        self._leeway = leeway_seconds
        self._verified: ExpiringMap[str, Principal] = ExpiringMap(max_size=max_cached, clock=clock)
        self._keys_seen: Mapping[str, Ed25519PublicKey] = {}
        self._keys_copy: dict[str, Ed25519PublicKey] = {}

    def cached(self, token: str) -> Principal | None:
        """The principal ``token`` proved before, if it still holds under the current keys."""
        self._current_keys()
        return self._verified.get(token)

    def verify(self, token: str) -> Principal:
        keys = self._current_keys()
        known = self._verified.get(token)
        if known is not None:
            return known
        key = keys.get(access_token_kid(token))
        if key is None:
            raise InvalidToken
        try:
            claims = jwt.decode(
                token,
                key,
                algorithms=[ALGORITHM],
                audience=self._audience,
                issuer=self._issuer,
                leeway=self._leeway,
                options={"require": REQUIRED_CLAIMS},
            )
        except jwt.PyJWTError as error:
            raise InvalidToken from error
        role = claims.get("role")
        if role not in (ADMIN, CUSTOMER):
            raise InvalidToken
        principal = Principal(customer_id=str(claims["sub"]), role=role)
        self._verified.put(token, principal, float(claims["exp"]))
        return principal

    def _current_keys(self) -> Mapping[str, Ed25519PublicKey]:
        """The keys now; what was verified under another set is forgotten.

        A source that keeps its mapping (the gateway's JWKS cache) is recognised at once;
        one that builds a new mapping each time (identity's key ring) is compared key by key.
        """
        keys = self._public_keys()
        if keys is not self._keys_seen:
            if keys != self._keys_copy:
                self._verified.clear()
                self._keys_copy = dict(keys)
            self._keys_seen = keys
        return keys


class Verifier(Protocol):
    def verify(self, token: str) -> Principal: ...


_bearer = HTTPBearer(auto_error=False)
BearerCredentials = Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]


VERIFIED_CALLER = "verified_caller"
"""Where the edge's rate limits, or a service's guard, leave the caller a request's bearer
token proved (a ``Principal``, or None for a bad token) in the request's state, so that
nothing behind them verifies the same token again."""


def bearer_token(authorization: str | None) -> str | None:
    """The token of an ``Authorization: Bearer <token>`` header, else None."""
    scheme, token = get_authorization_scheme_param(authorization)
    return token if scheme.lower() == "bearer" and token else None


class Authenticator:
    """FastAPI dependencies: ``customer`` admits any signed-in caller, ``admin``
    administrators only.

    Both are coroutines, though they never wait: FastAPI runs a plain function dependency
    in a worker thread, a hand-off that costs more than what it runs.
    """

    def __init__(self, verifier: Verifier) -> None:
        self._verifier = verifier

    async def customer(self, request: Request, credentials: BearerCredentials) -> Principal:
        return self._caller(request, credentials, (ADMIN, CUSTOMER))

    async def admin(self, request: Request, credentials: BearerCredentials) -> Principal:
        return self._caller(request, credentials, (ADMIN,))

    def _caller(
        self, request: Request, credentials: BearerCredentials, allowed: tuple[str, ...]
    ) -> Principal:
        if credentials is None:
            raise InvalidToken
        verified = request.scope.get("state", {})
        if VERIFIED_CALLER in verified:
            found = verified[VERIFIED_CALLER]
            if not isinstance(found, Principal):
                raise InvalidToken
            principal = found
        else:
            principal = self._verifier.verify(credentials.credentials)
        if principal.role == CUSTOMER and CUSTOMER not in allowed:
            raise Forbidden("This operation needs an administrator.")
        if principal.role not in allowed:
            raise InvalidToken
        return principal
