"""A circuit breaker on the failure rate over a sliding time window.

- **Closed**: calls pass; each outcome is recorded with its time. Once the window
  (``window`` seconds) holds at least ``minimum_calls`` outcomes and at least
  ``failure_rate`` of them are failures, the breaker opens.
- **Open**: calls are refused at once with ``CircuitOpen``, without waiting for a
  timeout, for ``open_seconds``. The dependency gets room to recover, and the
  caller answers (or degrades) fast.
- **Half-open**: after the open time, ``half_open_trials`` calls go through as
  trials while the others are still refused. One failed trial opens again; all
  trials succeeding closes, with an empty window.

What counts as a failure is decided by the caller (``classify``): only signs
that the dependency did not answer. A business error is an answer, so it is
recorded as a success. Outcomes of calls that started before the last state
change are ignored (each permit carries the generation it was given in): a slow
call from before the breaker opened must not close it.

Hand-written, after looking at the libraries: pybreaker, aiobreaker, purgatory
and circuitbreaker all open after N *consecutive* failures (no failure rate, no
minimum number of calls), read the wall clock or ``time`` directly (no injected
clock, so no deterministic tests), and pybreaker has no native asyncio. The
state machine below is the whole of it. Not thread-safe: one event loop.
"""

import enum
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

from shoplab.platform.resilience.clock import Clock
from shoplab.platform.resilience.config import BreakerConfig
from shoplab.platform.resilience.errors import CircuitOpen


class State(enum.IntEnum):
    """The value is what the ``shoplab_breaker_state`` gauge shows."""

    CLOSED = 0
    OPEN = 1
    HALF_OPEN = 2


class Outcome(enum.Enum):
    SUCCESS = "success"
    FAILURE = "failure"
    ABANDONED = "abandoned"
    """The call was cancelled: it says nothing about the dependency."""


@dataclass(frozen=True)
class Permit:
    generation: int


Transition = Callable[[State, State], None]


class CircuitBreaker:
    def __init__(
        self,
        dependency: str,
        config: BreakerConfig,
        clock: Clock,
        on_transition: Transition = lambda old, new: None,
    ) -> None:
        self._dependency = dependency
        self._config = config
        self._clock = clock
        self._on_transition = on_transition
        self._state = State.CLOSED
        self._generation = 0
        self._window: deque[tuple[float, bool]] = deque()
        self._failures = 0
        self._opened_at = 0.0
        self._trials = 0
        self._trial_successes = 0

    @property
    def state(self) -> State:
        self._half_open_when_due()
        return self._state

    def acquire(self) -> Permit:
        """Permission for one call; raises ``CircuitOpen`` when the call must not be made."""
        if self.state is State.OPEN:
            raise CircuitOpen(self._dependency)
        if self._state is State.HALF_OPEN:
            if self._trials >= self._config.half_open_trials:
                raise CircuitOpen(self._dependency)
            self._trials += 1
        return Permit(self._generation)

    def release(self, permit: Permit, outcome: Outcome) -> None:
        """Record how the permitted call ended."""
        if permit.generation != self._generation:
            return
        if self._state is State.HALF_OPEN:
            self._end_trial(outcome)
        elif outcome is not Outcome.ABANDONED:
            self._record(failed=outcome is Outcome.FAILURE)

    def _record(self, *, failed: bool) -> None:
        now = self._clock()
        self._window.append((now, failed))
        self._failures += failed
        while self._window[0][0] <= now - self._config.window:
            self._failures -= self._window.popleft()[1]
        calls = len(self._window)
        if calls >= self._config.minimum_calls and (
            self._failures >= self._config.failure_rate * calls
        ):
            self._move_to(State.OPEN)

    def _end_trial(self, outcome: Outcome) -> None:
        if outcome is Outcome.FAILURE:
            self._move_to(State.OPEN)
        elif outcome is Outcome.ABANDONED:
            self._trials -= 1
        else:
            self._trial_successes += 1
            if self._trial_successes >= self._config.half_open_trials:
                self._move_to(State.CLOSED)

    def _half_open_when_due(self) -> None:
        due = self._opened_at + self._config.open_seconds
        if self._state is State.OPEN and self._clock() >= due:
            self._move_to(State.HALF_OPEN)

    def _move_to(self, state: State) -> None:
        old, self._state = self._state, state
        self._generation += 1
        self._window.clear()
        self._failures = 0
        self._trials = self._trial_successes = 0
        if state is State.OPEN:
            self._opened_at = self._clock()
        self._on_transition(old, state)
