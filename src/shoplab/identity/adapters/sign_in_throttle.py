"""The sign-in throttle on the shared rate limiter: failed sign-ins counted per account.

Accounts are counted under a digest of their email, so the counter store (Redis,
when configured) never holds an email address.
"""

import hashlib

from shoplab.identity.domain.model import SignInsSuspended
from shoplab.platform.rate_limits import Policy, RateLimiter


class RateLimitedSignIns:
    def __init__(self, limiter: RateLimiter, policy: Policy) -> None:
        self._limiter = limiter
        self._policy = policy

    async def check(self, account: str) -> None:
        decision = await self._limiter.test(self._policy, _key(account))
        if not decision.allowed:
            raise SignInsSuspended(decision.retry_after_seconds)

    async def failed(self, account: str) -> None:
        await self._limiter.hit(self._policy, _key(account))


def _key(account: str) -> str:
    return "account:" + hashlib.sha256(account.encode()).hexdigest()[:32]
