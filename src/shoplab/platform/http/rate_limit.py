"""Rate limits at the public edge (the gateway, or the monolith's own app).

Three policies, each configurable (``SHOPLAB_RATE_LIMIT_LOGIN``, ``..._PLACEMENT``,
``..._READS``):

- ``login``: signing in and registering, counted per client address (these
  callers have no token yet);
- ``placement``: placing an order and every other write, per customer;
- ``reads``: every read, per customer.

A request with a valid token is counted against its customer, so one customer's
burst never throttles another; one without is counted against its address.
Health probes and metrics scrapes are never limited. Every answer under a policy
carries ``RateLimit`` and ``RateLimit-Policy``; a refused one is a 429 problem
with ``Retry-After`` as well, and never reaches a route.
"""

from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from shoplab.platform.auth import VERIFIED_CALLER, Principal
from shoplab.platform.http.problems import problem
from shoplab.platform.rate_limits import Policy, RateLimiter
from shoplab.platform.settings import PlatformSettings

Identify = Callable[[str | None], Awaitable[Principal | None]]
"""The caller an ``Authorization`` header proves, or None (no token, or a bad one)."""

LOGIN_PATHS = frozenset({"/api/auth/token", "/api/auth/register"})
READ_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
UNLIMITED_PREFIXES = ("/health/", "/metrics")


@dataclass(frozen=True)
class EdgePolicies:
    login: Policy
    placement: Policy
    reads: Policy

    @classmethod
    def from_settings(cls, settings: PlatformSettings) -> "EdgePolicies":
        return cls(
            Policy.parse("login", settings.rate_limit_login),
            Policy.parse("placement", settings.rate_limit_placement),
            Policy.parse("reads", settings.rate_limit_reads),
        )

    def for_request(self, method: str, path: str) -> Policy | None:
        """The policy a request counts under, or None for probes and scrapes."""
        if path.startswith(UNLIMITED_PREFIXES):
            return None
        if method == "POST" and path in LOGIN_PATHS:
            return self.login
        return self.reads if method in READ_METHODS else self.placement


class RateLimits:
    """ASGI middleware: count each request under its policy; answer 429 past the quota."""

    def __init__(
        self, app: ASGIApp, limiter: RateLimiter, policies: EdgePolicies, identify: Identify
    ) -> None:
        self.app = app
        self.limiter = limiter
        self.policies = policies
        self.identify = identify

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        policy = (
            self.policies.for_request(scope["method"], scope["path"])
            if scope["type"] == "http"
            else None
        )
        if policy is None:
            await self.app(scope, receive, send)
            return
        decision = await self.limiter.hit(policy, await self._caller(scope, policy))
        if not decision.allowed:
            refusal = problem(
                429,
                f"Too many requests under the {policy.name!r} policy; "
                f"try again in {decision.retry_after_seconds} s.",
                headers=decision.headers,
            )
            await refusal(scope, receive, send)
            return
        extra = [
            (name.lower().encode(), value.encode()) for name, value in decision.headers.items()
        ]

        async def send_with_quota(message: Message) -> None:
            if message["type"] == "http.response.start":
                message = {**message, "headers": [*message.get("headers", []), *extra]}
            await send(message)

        await self.app(scope, receive, send_with_quota)

    async def _caller(self, scope: Scope, policy: Policy) -> str:
        """``customer:<id>`` for a signed-in caller (not for login), else ``address:<ip>``."""
        if policy is not self.policies.login:
            authorization = _header(scope, b"authorization")
            if authorization:
                principal = await self.identify(authorization)
                scope.setdefault("state", {})[VERIFIED_CALLER] = principal
                if principal is not None:
                    return f"customer:{principal.customer_id}"
        client = scope.get("client")
        return f"address:{client[0] if client else 'unknown'}"


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope["headers"]:
        if key == name:
            return bytes(value).decode("latin-1")
    return None
