"""Rate limits at the public edge (the gateway, or the monolith's own app).

Four policies, each configurable (``SHOPLAB_RATE_LIMIT_LOGIN``,
``..._FAILED_LOGINS_PER_ADDRESS``, ``..._PLACEMENT``, ``..._READS``):

- ``login``: every sign-in and registration, counted per client address (these
  callers have no token yet): a generous ceiling against floods, since a class or
  an office signs in from one address;
- ``failed-logins``: the sign-ins and registrations of an address that were
  refused (any 4xx answer but 429): guessing passwords across many accounts from
  one address is slowed down, while people who get in are never counted here;
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
from shoplab.platform.rate_limits import Decision, Policy, RateLimiter
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
    failed_logins: Policy | None = None
    """Refused sign-ins per address; ``None``: not counted."""

    @classmethod
    def from_settings(cls, settings: PlatformSettings) -> "EdgePolicies":
        return cls(
            Policy.parse("login", settings.rate_limit_login),
            Policy.parse("placement", settings.rate_limit_placement),
            Policy.parse("reads", settings.rate_limit_reads),
            Policy.parse(
                "failed-logins-per-address", settings.rate_limit_failed_logins_per_address
            ),
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
        caller = await self._caller(scope, policy)
        decision = await self.limiter.hit(policy, caller)
        failures = self.policies.failed_logins if policy is self.policies.login else None
        if decision.allowed and failures is not None:
            failed_so_far = await self.limiter.test(failures, caller)
            if not failed_so_far.allowed:
                policy, decision = failures, failed_so_far
        if not decision.allowed:
            await _refuse(policy, decision, scope, receive, send)
            return
        extra = [
            (name.lower().encode(), value.encode()) for name, value in decision.headers.items()
        ]
        status = 0

        async def send_with_quota(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message = {**message, "headers": [*message.get("headers", []), *extra]}
            await send(message)

        await self.app(scope, receive, send_with_quota)
        if failures is not None and 400 <= status < 500 and status != 429:
            await self.limiter.hit(failures, caller)

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


async def _refuse(
    policy: Policy, decision: Decision, scope: Scope, receive: Receive, send: Send
) -> None:
    refusal = problem(
        429,
        f"Too many requests under the {policy.name!r} policy; "
        f"try again in {decision.retry_after_seconds} s.",
        headers=decision.headers,
    )
    await refusal(scope, receive, send)


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope["headers"]:
        if key == name:
            return bytes(value).decode("latin-1")
    return None
