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

In memory, the counting is ``limits``' synchronous storage and strategy, called
in place: each call takes microseconds and never waits. (``limits.aio``'s memory
storage hands every stored key's expiry to a thread after each hit: with a few
hundred customers, hundreds of thread hops per request.) Its expired entries are
dropped in place too, at most once a second (``PrunedInPlace``).
"""

import math
import time
from dataclasses import dataclass

import limits.storage
import limits.strategies
import structlog
from limits import RateLimitItem, WindowStats, parse_many
from limits.aio.storage import RedisStorage, Storage
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


class PrunedInPlace(limits.storage.MemoryStorage):
    """``limits``' memory storage, its expired entries dropped by the caller at most once a
    second. The library starts a timer thread for that after any hit once the last timer
    has run (every 10 ms under load): a thread per request or two, measured as 15% of the
    gateway's time. Only the pruning moves; what is counted does not change."""

    PRUNE_EVERY_SECONDS = 1.0
    _pruned_at = -math.inf

    def _MemoryStorage__schedule_expiry(self) -> None:  # noqa: N802 (the library's mangled name)
        now = time.monotonic()
        if now - self._pruned_at >= self.PRUNE_EVERY_SECONDS:
            self._pruned_at = now
            getattr(self, "_MemoryStorage__expire_events")()  # noqa: B009 (a mangled name)


class InMemoryWindows:
    """``limits``' synchronous moving windows in this process's memory, behind the
    interface of its asynchronous strategy (which the Redis store uses)."""

    def __init__(self) -> None:
        self._storage = PrunedInPlace()
        self._strategy = limits.strategies.MovingWindowRateLimiter(self._storage)

    async def hit(self, item: RateLimitItem, *identifiers: str) -> bool:
        return self._strategy.hit(item, *identifiers)

    async def test(self, item: RateLimitItem, *identifiers: str) -> bool:
        return self._strategy.test(item, *identifiers)

    async def get_window_stats(self, item: RateLimitItem, *identifiers: str) -> WindowStats:
        return self._strategy.get_window_stats(item, *identifiers)

    async def clear(self, item: RateLimitItem, *identifiers: str) -> None:
        self._strategy.clear(item, *identifiers)

    async def check(self) -> bool:
        return self._storage.check()


class RateLimiter:
    """Counts hits per (policy, key) and decides; one instance per process."""

    def __init__(self, storage: Storage | None = None, prefix: str = "shoplab") -> None:
        """``storage``: an asynchronous ``limits`` store (Redis); None counts in memory."""
        self._strategy: MovingWindowRateLimiter | InMemoryWindows
        self._storage: Storage | InMemoryWindows
        if storage is None:
            self._strategy = self._storage = InMemoryWindows()
        else:
            self._storage, self._strategy = storage, MovingWindowRateLimiter(storage)
        self._prefix = prefix
        self._warned_at = -math.inf

    @classmethod
    def from_url(cls, redis_url: str | None, prefix: str = "shoplab") -> "RateLimiter":
        """In memory without a URL; else Redis at ``redis://host:port/db`` (or ``rediss://``)."""
        if redis_url is None:
            return cls(None, prefix)
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
