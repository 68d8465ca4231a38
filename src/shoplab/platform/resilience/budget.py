"""A retry budget: retries may add only a fraction to the calls made to a dependency.

Per-call retry limits are not enough. When a dependency fails, every caller
retries each call two or three times, and the dependency receives three or four
times its normal load exactly when it can least take it (a retry storm). A
budget bounds the total instead: over a sliding window, retries may be at most
``ratio`` of the first attempts (20 % by default), plus a small floor of
``min_per_second`` so that a quiet system, with too few calls for 20 % to make
one retry, can still retry now and then.

Hand-written: tenacity and stamina limit the attempts of one call, not the
retries of a whole dependency; gRPC's own retry throttling is configured on the
channel and cannot be seen or switched per dependency. This is the token idea of
Finagle's and gRPC's retry budgets, with counts over a window instead of tokens
so that a learner can check the arithmetic.

Memory: one timestamp per call and per retry inside the window (ten seconds of
traffic), which is small at this system's scale; a high-traffic version would
count per one-second bucket instead.
"""

from collections import deque

from shoplab.platform.resilience.clock import Clock


class RetryBudget:
    def __init__(self, *, ratio: float, min_per_second: float, window: float, clock: Clock) -> None:
        self._ratio = ratio
        self._floor = min_per_second * window
        self._window = window
        self._clock = clock
        self._calls: deque[float] = deque()
        self._retries: deque[float] = deque()

    def record_call(self) -> None:
        """A first attempt was made; it earns ``ratio`` of a retry."""
        self._calls.append(self._clock())

    def try_spend(self) -> bool:
        """Take one retry from the budget; False (and nothing taken) when it is spent."""
        self._forget_old()
        if len(self._retries) + 1 > self.allowed:
            return False
        self._retries.append(self._clock())
        return True

    @property
    def allowed(self) -> float:
        """Retries allowed in the current window."""
        return max(self._floor, self._ratio * len(self._calls))

    def _forget_old(self) -> None:
        horizon = self._clock() - self._window
        for stamps in (self._calls, self._retries):
            while stamps and stamps[0] <= horizon:
                stamps.popleft()
