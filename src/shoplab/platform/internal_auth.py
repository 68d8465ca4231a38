"""Credentials between the processes of the microservices mode.

The gateway verifies a customer's access token at the edge, then calls the
owning service with an *internal* token that it signs itself, naming the caller
(customer, admin, or ``anonymous``). Services call each other with internal
tokens naming themselves (role ``service``). Every service refuses a request
without a valid internal token, so its port called directly is closed, and never
trusts an unsigned header.

Internal tokens are short-lived HS256 JWTs keyed by a secret that the runtime
creates in the data folder before any process starts. Their type
(``shoplab-internal+jwt``), algorithm and audience all differ from the customers'
tokens, so neither kind is accepted where the other is expected (RFC 8725 3.11,
3.12); their header obeys the same rules as an access token's (no ``jku``, ``x5u``,
``jwk``, ``x5c`` nor ``crit``).

A token is signed once per caller for ``REUSE_SECONDS`` and sent on every call meanwhile,
so it always has half its lifetime left; a verified one is remembered until it expires
(``token_cache``): the secret never changes while a process runs.
"""

import secrets
import time
from pathlib import Path

import jwt

from shoplab.platform.auth import (
    ADMIN,
    ANONYMOUS,
    CUSTOMER,
    REQUIRED_CLAIMS,
    SERVICE,
    InvalidToken,
    Principal,
    checked_header,
)
from shoplab.platform.secret_files import write_new_secret
from shoplab.platform.token_cache import DEFAULT_MAX_SIZE, Clock, ExpiringMap

AUDIENCE = "shoplab-internal"
ALGORITHM = "HS256"
TOKEN_TYPE = "shoplab-internal+jwt"
"""The ``typ`` header of an internal token: never an access token's ``at+jwt``."""
ROLES = (ADMIN, CUSTOMER, SERVICE, ANONYMOUS)
SECRET_FILE = Path("keys") / "service-secret"
TOKEN_TTL_SECONDS = 60
REUSE_SECONDS = TOKEN_TTL_SECONDS / 2
"""How long a minted token is sent again: half its life, so a receiver never gets a stale one."""
LEEWAY_SECONDS = 5
"""The clock difference tolerated between two processes of one run."""


def ensure_service_secret(data_dir: Path) -> Path:
    """Create the run's shared service secret once; later calls keep the first one."""
    path = data_dir / SECRET_FILE
    write_new_secret(path, secrets.token_hex(32).encode())
    return path


def load_service_secret(data_dir: Path) -> bytes:
    return (data_dir / SECRET_FILE).read_bytes().strip()


class ServiceCredentials:
    """Mints internal tokens as ``issuer`` and verifies the ones other processes mint."""

    def __init__(
        self,
        secret: bytes,
        issuer: str,
        *,
        clock: Clock = time.time,
        max_cached: int = DEFAULT_MAX_SIZE,
    ) -> None:
        if len(secret) < 32:
            raise ValueError("the service secret must be at least 32 bytes")
        self._secret = secret
        self.issuer = issuer
        self._clock = clock
        self._itself = Principal(customer_id=issuer, role=SERVICE)
        self._minted: ExpiringMap[Principal, str] = ExpiringMap(max_size=max_cached, clock=clock)
        self._verified: ExpiringMap[str, Principal] = ExpiringMap(max_size=max_cached, clock=clock)

    def mint(self, principal: Principal | None = None) -> str:
        """A token for ``principal``, or for this service itself when ``None``; one signed
        less than ``REUSE_SECONDS`` ago for the same principal is given again."""
        subject = principal or self._itself
        token = self._minted.get(subject)
        if token is None:
            now = self._clock()
            token = self._sign(subject, int(now))
            self._minted.put(subject, token, now + REUSE_SECONDS)
        return token

    def _sign(self, subject: Principal, now: int) -> str:
        claims = {
            "iss": self.issuer,
            "aud": AUDIENCE,
            "sub": subject.customer_id,
            "role": subject.role,
            "iat": now,
            "nbf": now,
            "exp": now + TOKEN_TTL_SECONDS,
        }
        return jwt.encode(claims, self._secret, algorithm=ALGORITHM, headers={"typ": TOKEN_TYPE})

    def anonymous(self) -> str:
        return self.mint(Principal(customer_id=ANONYMOUS, role=ANONYMOUS))

    def verify(self, token: str) -> Principal:
        """The principal ``token`` names; a token verified before is not checked again."""
        known = self._verified.get(token)
        if known is not None:
            return known
        checked_header(token, TOKEN_TYPE)
        try:
            claims = jwt.decode(
                token,
                self._secret,
                algorithms=[ALGORITHM],
                audience=AUDIENCE,
                leeway=LEEWAY_SECONDS,
                options={"require": REQUIRED_CLAIMS},
            )
        except jwt.PyJWTError as error:
            raise InvalidToken from error
        role = claims.get("role")
        if role not in ROLES:
            raise InvalidToken
        principal = Principal(customer_id=str(claims["sub"]), role=role)
        self._verified.put(token, principal, float(claims["exp"]))
        return principal

    def headers(self, principal: Principal | None = None) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.mint(principal)}"}
