"""The bulkhead: a bounded number of calls in flight per dependency, the excess refused at once."""

import asyncio

import pytest

from shoplab.platform.resilience import (
    BulkheadConfig,
    BulkheadFull,
    ManualClock,
    ResilienceConfig,
)
from shoplab.platform.resilience.policy import ResilientCall

from .test_resilience_fakes import make_policy


class Held:
    """A dependency whose calls wait until released; ``all_in`` is set once ``expected`` are in."""

    def __init__(self, expected: int) -> None:
        self.expected = expected
        self.all_in = asyncio.Event()
        self.release = asyncio.Event()
        self.calls = 0

    async def __call__(self, seconds: float | None) -> str:
        self.calls += 1
        if self.calls == self.expected:
            self.all_in.set()
        await self.release.wait()
        return "done"


async def hold(policy: ResilientCall, dependency: Held) -> list[asyncio.Task[str]]:
    calls = [asyncio.create_task(policy.call(dependency)) for _ in range(dependency.expected)]
    await dependency.all_in.wait()
    return calls


async def test_the_call_over_the_limit_is_refused_at_once() -> None:
    policy = make_policy(ManualClock(), ResilienceConfig(bulkhead=BulkheadConfig(limit=2)))
    dependency = Held(expected=2)
    held = await hold(policy, dependency)

    extra = asyncio.create_task(policy.call(dependency))
    await asyncio.sleep(0)
    assert extra.done(), "the excess call waited instead of being refused"
    with pytest.raises(BulkheadFull, match="limit 2"):
        extra.result()
    assert dependency.calls == 2

    dependency.release.set()
    assert await asyncio.gather(*held) == ["done", "done"]
    assert policy.bulkhead.in_use == 0
    assert await policy.call(dependency) == "done", "places are given back"


async def test_a_failed_call_gives_its_place_back() -> None:
    policy = make_policy(ManualClock(), ResilienceConfig(bulkhead=BulkheadConfig(limit=1)))

    async def refused(seconds: float | None) -> str:
        raise ConnectionRefusedError

    with pytest.raises(ConnectionRefusedError):
        await policy.call(refused)
    assert policy.bulkhead.in_use == 0


async def test_a_switched_off_bulkhead_is_unbounded() -> None:
    config = ResilienceConfig(bulkhead=BulkheadConfig(enabled=False, limit=2))
    policy = make_policy(ManualClock(), config)
    dependency = Held(expected=5)
    held = await hold(policy, dependency)
    assert policy.bulkhead.in_use == 5
    dependency.release.set()
    await asyncio.gather(*held)
