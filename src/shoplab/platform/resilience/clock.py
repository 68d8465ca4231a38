"""Time as the resilience patterns see it: an injected clock and an injected sleep.

Every pattern here reads a monotonic clock (never the wall clock, which jumps)
and the retries wait through an injected sleep, so a test drives time by hand
with ``ManualClock`` and runs in microseconds, with no real sleep at all.
"""

import asyncio
import time
from collections.abc import Awaitable, Callable

Clock = Callable[[], float]
"""Seconds on a monotonic scale; only differences between readings mean anything."""

Sleep = Callable[[float], Awaitable[None]]

MONOTONIC: Clock = time.monotonic
REAL_SLEEP: Sleep = asyncio.sleep


class ManualClock:
    """A clock that moves only when told to; its ``sleep`` advances it instead of waiting."""

    def __init__(self, start: float = 1_000.0) -> None:
        self.now = start
        self.slept: list[float] = []

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds

    async def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds
