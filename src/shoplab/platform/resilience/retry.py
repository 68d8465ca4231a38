"""Retries with exponential backoff and full jitter, on tenacity, bounded three ways.

tenacity runs the loop, draws the waits (``wait_random_exponential`` is the
"full jitter" of the AWS architecture blog: a random wait between zero and an
exponentially growing bound, so that callers that failed together do not retry
together) and sleeps through the injected ``sleep``. stamina, the other choice,
has the same engine underneath but adds its own jitter on top of the exponential
and can only be made sleep-free globally; tenacity takes a sleep per loop.

Whether the error deserves a retry is asked first (``retryable``); then a retry
is given up when any of these says stop, cheapest first:

1. the attempts are spent (``max_retries``; one attempt for a call that is not
   idempotent, or with retries switched off);
2. the wait would end after the deadline: no point sleeping into a timeout;
3. the dependency's retry budget is spent (asked last, since asking spends it).
"""

from collections.abc import Callable

from tenacity import AsyncRetrying, RetryCallState, retry_if_exception, wait_random_exponential

from shoplab.platform.resilience.budget import RetryBudget
from shoplab.platform.resilience.classify import Classifier
from shoplab.platform.resilience.clock import Sleep
from shoplab.platform.resilience.config import RetryConfig


def retrying(
    config: RetryConfig,
    *,
    attempts: int,
    retryable: Classifier,
    budget: RetryBudget | None,
    time_left: Callable[[], float | None],
    sleep: Sleep,
    on_retry: Callable[[], None],
    on_budget_exhausted: Callable[[], None],
) -> AsyncRetrying:
    def give_up(state: RetryCallState) -> bool:
        if state.attempt_number >= attempts:
            return True
        left = time_left()
        if left is not None and left <= (state.upcoming_sleep or 0.0):
            return True
        if budget is not None and not budget.try_spend():
            on_budget_exhausted()
            return True
        return False

    return AsyncRetrying(
        sleep=sleep,
        stop=give_up,
        wait=wait_random_exponential(multiplier=config.backoff_initial, max=config.backoff_max),
        retry=retry_if_exception(retryable),
        before_sleep=lambda state: on_retry(),
        reraise=True,
    )
