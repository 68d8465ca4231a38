"""Rate limits: named policies of ``limits`` quotas, counted in memory or in Redis.

A *policy* is a name and one or more quotas in the ``limits`` notation
(``"10/second;300/hour"``); a request passes only while every quota has room.
Counts use a moving window: at most ``q`` hits in *any* ``w`` seconds, so a burst
cannot double a quota by straddling two fixed windows.

The counters live in this process's memory by default. Given ``redis://...``
they live in Redis, so every process that names the same server and prefix
counts against one shared budget (several gateway instances enforce one limit).

A limiter whose Redis does not answer lets requests through (and says so in a
metric and a warning): a rate limit protects the system, it must not become the
reason it is down.

Answers carry the IETF draft's headers (draft-ietf-httpapi-ratelimit-headers):
``RateLimit-Policy`` lists the quotas, ``RateLimit`` the room left in the
tightest one and the seconds until it grows back.
"""

import math
import time
from dataclasses import dataclass

import structlog
from limits import RateLimitItem, parse_many
from limits.aio.storage import MemoryStorage, RedisStorage, Storage
from limits.aio.strategies import MovingWindowRateLimiter
from prometheus_client import Counter

log = structlog.get_logger(__name__)

DECISIONS = Counter(
    "shoplab_rate_limit_decisions_total",
    "Requests counted by a rate-limit policy, by outcome (allowed, limited, unavailable).",
    ["policy", "outcome"],
)
WARN_EVERY_SECONDS = 60.0
"""How often an unreachable counter store is logged (each request would be too often)."""


@dataclass(frozen=True)
class Policy:
    """Named quotas, shortest window first: ``parse("placement", "10/second;300/hour")``."""

    name: str
    quotas: tuple[RateLimitItem, ...]

    @classmethod
    def parse(cls, name: str, text: str) -> "Policy":
        quotas = tuple(sorted(parse_many(text), key=lambda quota: quota.get_expiry()))
        if not quotas:
            raise ValueError(f"rate limit policy {name!r} has no quota: {text!r}")
        return cls(name, quotas)

    def quota_name(self, quota: RateLimitItem) -> str:
        """``login-60s``: the policy item's name in the headers."""
        return f"{self.name}-{quota.get_expiry()}s"

    def header(self) -> str:
        """The ``RateLimit-Policy`` field: ``"login-60s";q=10;w=60``, one item per quota."""
        return ", ".join(
            f'"{self.quota_name(q)}";q={q.amount};w={q.get_expiry()}' for q in self.quotas
        )


@dataclass(frozen=True)
class Decision:
    """What a limiter decided for one request, and the headers that tell the caller."""

    allowed: bool
    headers: dict[str, str]
    retry_after_seconds: int = 0


class RateLimiter:
    """Counts hits per (policy, key) and decides; one instance per process."""

    def __init__(self, storage: Storage, prefix: str = "shoplab") -> None:
        self._storage = storage
        self._strategy = MovingWindowRateLimiter(storage)
        self._prefix = prefix
        self._warned_at = -math.inf

    @classmethod
    def from_url(cls, redis_url: str | None, prefix: str = "shoplab") -> "RateLimiter":
        """In memory without a URL; else Redis at ``redis://host:port/db`` (or ``rediss://``)."""
        if redis_url is None:
            return cls(MemoryStorage(), prefix)
        scheme = redis_url.split("://", 1)[0]
        if scheme not in ("redis", "rediss"):
            raise ValueError(f"the rate-limit store must be redis:// or rediss://, not {scheme}://")
        return cls(RedisStorage(f"async+{redis_url}", key_prefix=prefix), prefix)

    async def hit(self, policy: Policy, key: str) -> Decision:
        """Count one request by ``key`` under ``policy``; refuse it once a quota is spent.

        Quotas are hit shortest window first, and the first one without room stops the
        count, so a request refused by a burst quota uses up nothing of the longer ones.
        """
        try:
            return await self._hit(policy, key)
        except Exception as error:  # the store is down: let the request through
            DECISIONS.labels(policy.name, "unavailable").inc()
            self._warn(error)
            return Decision(True, {})

    async def test(self, policy: Policy, key: str) -> Decision:
        """Would one more hit pass? Counts nothing (a sign-in checks before it fails)."""
        try:
            for quota in policy.quotas:
                if not await self._strategy.test(quota, policy.name, key):
                    return await self._refusal(policy, quota, key)
            return Decision(True, {})
        except Exception as error:
            self._warn(error)
            return Decision(True, {})

    async def _hit(self, policy: Policy, key: str) -> Decision:
        tightest: tuple[int, int, RateLimitItem] | None = None
        for quota in policy.quotas:
            if not await self._strategy.hit(quota, policy.name, key):
                DECISIONS.labels(policy.name, "limited").inc()
                return await self._refusal(policy, quota, key)
            stats = await self._strategy.get_window_stats(quota, policy.name, key)
            reset = _seconds_until(stats.reset_time)
            if tightest is None or stats.remaining < tightest[0]:
                tightest = (stats.remaining, reset, quota)
        DECISIONS.labels(policy.name, "allowed").inc()
        assert tightest is not None  # a policy has at least one quota
        remaining, reset, quota = tightest
        return Decision(True, _headers(policy, quota, remaining, reset))

    async def _refusal(self, policy: Policy, quota: RateLimitItem, key: str) -> Decision:
        stats = await self._strategy.get_window_stats(quota, policy.name, key)
        wait = max(1, _seconds_until(stats.reset_time))
        headers = {**_headers(policy, quota, 0, wait), "Retry-After": str(wait)}
        return Decision(False, headers, wait)

    async def clear(self, policy: Policy, key: str) -> None:
        """Forget ``key``'s hits under ``policy`` (tests and administrators)."""
        for quota in policy.quotas:
            await self._strategy.clear(quota, policy.name, key)

    async def ping(self) -> bool:
        try:
            return bool(await self._storage.check())
        except Exception:
            return False

    def _warn(self, error: Exception) -> None:
        now = time.monotonic()
        if now - self._warned_at >= WARN_EVERY_SECONDS:
            self._warned_at = now
            log.warning("rate-limit store unavailable, letting requests through", error=str(error))


def _headers(policy: Policy, quota: RateLimitItem, remaining: int, reset: int) -> dict[str, str]:
    return {
        "RateLimit-Policy": policy.header(),
        "RateLimit": f'"{policy.quota_name(quota)}";r={remaining};t={reset}',
    }


def _seconds_until(epoch: float) -> int:
    """Whole seconds from now to ``epoch``, rounded up (a client waiting that long has room)."""
    return max(0, math.ceil(epoch - time.time()))
