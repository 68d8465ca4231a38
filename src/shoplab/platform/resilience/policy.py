"""``ResilientCall``: the four patterns around every call to one dependency, in one order.

    deadline ─▶ bulkhead ─▶ retry loop ─▶ [ deadline check ─▶ breaker ─▶ attempt ]

1. **Deadline first.** A call whose request has already run out of time fails at
   once: it takes no slot, touches no breaker, sends nothing. The call then gets
   its own deadline, ``timeout`` from now but never later than the inherited one,
   for all its attempts and waits together.
2. **Bulkhead around the whole call**, retries and waits included, so that
   retrying cannot put more than ``limit`` calls on the dependency at once.
3. **Retry loop** (idempotent calls only, availability errors only, budgeted), entered
   only after a first attempt failed: the attempt that succeeds costs no loop.
4. **Each attempt** checks the deadline again, then **asks the breaker**: every
   attempt is a real call to the dependency, so each is counted, and an open
   breaker stops the retries at once (``CircuitOpen`` is never retried). The
   attempt gets the time left as its timeout, passed to the operation (for
   gRPC's ``timeout=``) and enforced here too with ``asyncio.timeout``.

A caller wraps a call as::

    catalog = resilience.policy("catalog")
    product = await catalog.call(
        lambda timeout: stub.GetProduct(request, timeout=timeout), idempotent=True
    )

What gets out is the operation's own result or error, or one of ``DeadlineExceeded``,
``CircuitOpen``, ``BulkheadFull`` (all ``Unavailable``, so a 503 at the edge).
"""

import asyncio
from collections.abc import Awaitable, Callable
from contextlib import AbstractContextManager, nullcontext
from typing import TypeVar

import structlog
from tenacity import AsyncRetrying

from shoplab.platform.resilience import deadline
from shoplab.platform.resilience.breaker import CircuitBreaker, Outcome, Permit, State
from shoplab.platform.resilience.budget import RetryBudget
from shoplab.platform.resilience.bulkhead import Bulkhead
from shoplab.platform.resilience.classify import is_retryable, is_timeout
from shoplab.platform.resilience.clock import MONOTONIC, REAL_SLEEP, Clock, Sleep
from shoplab.platform.resilience.config import ResilienceConfig
from shoplab.platform.resilience.errors import (
    BulkheadFull,
    CircuitOpen,
    DeadlineExceeded,
    ResilienceError,
)
from shoplab.platform.resilience.metrics import ResilienceMetrics, process_metrics
from shoplab.platform.resilience.retry import retrying

T = TypeVar("T")
Operation = Callable[[float | None], Awaitable[T]]
"""One attempt: called with its timeout in seconds (None when deadlines are off)."""

log = structlog.get_logger(__name__)


class ResilientCall:
    def __init__(
        self,
        caller: str,
        dependency: str,
        config: ResilienceConfig | None = None,
        *,
        metrics: ResilienceMetrics | None = None,
        clock: Clock = MONOTONIC,
        sleep: Sleep = REAL_SLEEP,
    ) -> None:
        self.name = f"{caller}→{dependency}"
        self.config = config = config or ResilienceConfig()
        self._clock = clock
        self._sleep = sleep
        self._metrics = (metrics or process_metrics()).for_dependency(caller, dependency)
        self.breaker = CircuitBreaker(dependency, config.breaker, clock, self._transitioned)
        limit = config.bulkhead.limit if config.bulkhead.enabled else None
        self.bulkhead = Bulkhead(dependency, limit, self._metrics.in_use)
        retry = config.retry
        self.budget = RetryBudget(
            ratio=retry.budget_ratio,
            min_per_second=retry.budget_min_per_second,
            window=retry.budget_window,
            clock=clock,
        )
        self._dependency = dependency

    async def call(self, operation: Operation[T], *, idempotent: bool = False) -> T:
        """Run ``operation`` under the policy; ``idempotent`` allows retries."""
        try:
            self._fail_if_expired()
            with self._call_deadline(), self.bulkhead.slot():
                try:
                    result = await self._attempt(operation, first=True)
                except Exception as error:
                    if not (idempotent and self.config.retry.enabled):
                        raise
                    result = await self._retry(operation, error, idempotent)
        except BaseException as error:
            self._metrics.call(self._count(error))
            raise
        self._metrics.call("success")
        return result

    async def _retry(self, operation: Operation[T], failed: Exception, idempotent: bool) -> T:
        """The retry loop, entered only once a first attempt has failed: that failure is
        given to it as its attempt 1, so a call that succeeds at once pays for no loop."""
        async for attempt in self._retrying(idempotent):
            with attempt:
                if attempt.retry_state.attempt_number == 1:
                    raise failed
                result = await self._attempt(operation, first=False)
        return result

    async def _attempt(self, operation: Operation[T], *, first: bool) -> T:
        seconds = self._fail_if_expired()
        permit = self.breaker.acquire() if self.config.breaker.enabled else None
        if first:
            self.budget.record_call()
        try:
            result = await self._run(operation, seconds)
        except BaseException as error:
            self._release(permit, self._breaker_outcome(error))
            raise
        self._release(permit, Outcome.SUCCESS)
        return result

    async def _run(self, operation: Operation[T], seconds: float | None) -> T:
        """Run one attempt within the time left; a timeout is a ``DeadlineExceeded``, except
        a connection that could not be made in time (aiohttp's ``ConnectionTimeoutError`` is
        a ``TimeoutError`` too): nothing was sent, so it stays retryable elsewhere."""
        if seconds is None:
            return await operation(None)
        try:
            async with asyncio.timeout(seconds) as scope:
                return await operation(seconds)
        except TimeoutError as error:
            if not scope.expired() and is_retryable(error):
                raise
            raise DeadlineExceeded(self._dependency, called=True) from error

    def _fail_if_expired(self) -> float | None:
        """The time left (None without deadlines); raises when there is none."""
        if not self.config.deadlines:
            return None
        left = deadline.remaining(self._clock)
        if left is not None and left <= 0:
            raise DeadlineExceeded(self._dependency, called=False)
        return left

    def _call_deadline(self) -> AbstractContextManager[None]:
        if not self.config.deadlines:
            return nullcontext()
        return deadline.within(self.config.timeout, self._clock)

    def _retrying(self, idempotent: bool) -> AsyncRetrying:
        retry = self.config.retry
        return retrying(
            retry,
            attempts=1 + retry.max_retries if idempotent and retry.enabled else 1,
            retryable=self._retryable,
            budget=self.budget if retry.budget_enabled else None,
            time_left=lambda: deadline.remaining(self._clock) if self.config.deadlines else None,
            sleep=self._sleep,
            on_retry=self._metrics.retry,
            on_budget_exhausted=self._metrics.budget_exhausted,
        )

    def _retryable(self, error: BaseException) -> bool:
        return not isinstance(error, ResilienceError) and self.config.is_retryable(error)

    def _breaker_outcome(self, error: BaseException) -> Outcome:
        if not isinstance(error, Exception):
            return Outcome.ABANDONED
        return Outcome.FAILURE if self.config.is_failure(error) else Outcome.SUCCESS

    def _release(self, permit: Permit | None, outcome: Outcome) -> None:
        if permit is not None:
            self.breaker.release(permit, outcome)

    def _count(self, error: BaseException) -> str:
        """The outcome label of a call that raised, counting the pattern that stopped it."""
        if isinstance(error, CircuitOpen):
            return "circuit_open"
        if isinstance(error, BulkheadFull):
            self._metrics.bulkhead_rejected()
            return "bulkhead_full"
        if not isinstance(error, Exception):
            return "cancelled"
        if is_timeout(error):
            called = not isinstance(error, DeadlineExceeded) or error.called
            self._metrics.deadline_exceeded(called=called)
            return "deadline_exceeded"
        return "failure" if self.config.is_failure(error) else "business_error"

    def _transitioned(self, old: State, new: State) -> None:
        self._metrics.transition(old, new)
        log.warning("circuit breaker changed state", circuit=self.name, old=old.name, new=new.name)
