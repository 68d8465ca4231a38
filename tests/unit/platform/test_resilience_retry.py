"""Retries: idempotent calls only, availability errors only, jittered backoff, a budget."""

from typing import Any

import grpc
import pytest

from shoplab.platform.errors import NotFound
from shoplab.platform.resilience import (
    BreakerConfig,
    CircuitOpen,
    DeadlineExceeded,
    ManualClock,
    ResilienceConfig,
    RetryBudget,
    RetryConfig,
)
from shoplab.platform.resilience import policy as policy_module

from .test_resilience_fakes import ScriptedDependency, make_policy, rpc_error

UNAVAILABLE = rpc_error(grpc.StatusCode.UNAVAILABLE)


async def test_an_idempotent_call_is_retried_after_an_availability_error() -> None:
    clock = ManualClock()
    dependency = ScriptedDependency(UNAVAILABLE, ConnectionRefusedError(), "product")
    assert await make_policy(clock).call(dependency, idempotent=True) == "product"
    assert dependency.calls == 3
    first, second = clock.slept
    assert 0 <= first <= 0.05
    assert 0 <= second <= 0.1, "the bound of the random wait doubles each retry"


async def test_a_call_not_declared_idempotent_is_never_retried() -> None:
    dependency = ScriptedDependency(UNAVAILABLE, "product")
    with pytest.raises(grpc.aio.AioRpcError):
        await make_policy(ManualClock()).call(dependency)
    assert dependency.calls == 1


@pytest.mark.parametrize(
    "error",
    [
        rpc_error(grpc.StatusCode.INVALID_ARGUMENT),
        rpc_error(grpc.StatusCode.NOT_FOUND),
        rpc_error(grpc.StatusCode.PERMISSION_DENIED),
        rpc_error(grpc.StatusCode.DEADLINE_EXCEEDED),
        NotFound("no such product"),
        TimeoutError(),
    ],
)
async def test_only_availability_errors_are_retried(error: BaseException) -> None:
    dependency = ScriptedDependency(error, "product")
    with pytest.raises((type(error), DeadlineExceeded)):
        await make_policy(ManualClock()).call(dependency, idempotent=True)
    assert dependency.calls == 1


async def test_retries_stop_after_max_retries_with_the_last_error() -> None:
    dependency = ScriptedDependency(UNAVAILABLE)
    with pytest.raises(grpc.aio.AioRpcError):
        await make_policy(ManualClock()).call(dependency, idempotent=True)
    assert dependency.calls == 3


async def test_no_retry_is_made_when_the_deadline_leaves_no_time_for_it() -> None:
    clock = ManualClock()

    async def slow_then_refused(seconds: float | None) -> str:
        clock.advance(2.0)
        raise UNAVAILABLE

    with pytest.raises(grpc.aio.AioRpcError):
        await make_policy(clock).call(slow_then_refused, idempotent=True)
    assert clock.slept == []


async def test_an_open_breaker_stops_the_retries_of_a_call() -> None:
    config = ResilienceConfig(
        breaker=BreakerConfig(minimum_calls=3),
        retry=RetryConfig(max_retries=5, budget_enabled=False),
    )
    dependency = ScriptedDependency(UNAVAILABLE)
    with pytest.raises(CircuitOpen):
        await make_policy(ManualClock(), config).call(dependency, idempotent=True)
    assert dependency.calls == 3


async def test_the_budget_stops_retries_once_it_is_spent() -> None:
    one_retry_per_window = RetryConfig(budget_ratio=0, budget_min_per_second=0.1)
    policy = make_policy(ManualClock(), ResilienceConfig(retry=one_retry_per_window))
    dependency = ScriptedDependency(UNAVAILABLE)
    for _ in range(2):
        with pytest.raises(grpc.aio.AioRpcError):
            await policy.call(dependency, idempotent=True)
    assert dependency.calls == 3, "two first attempts, and the one retry the budget allows"


async def test_without_the_budget_every_call_retries_fully() -> None:
    no_budget = RetryConfig(budget_enabled=False, budget_ratio=0, budget_min_per_second=0.1)
    policy = make_policy(ManualClock(), ResilienceConfig(retry=no_budget))
    dependency = ScriptedDependency(UNAVAILABLE)
    for _ in range(2):
        with pytest.raises(grpc.aio.AioRpcError):
            await policy.call(dependency, idempotent=True)
    assert dependency.calls == 6


def test_the_budget_allows_a_share_of_the_calls_over_the_window() -> None:
    clock = ManualClock()
    budget = RetryBudget(ratio=0.2, min_per_second=0, window=10, clock=clock)
    assert not budget.try_spend()
    for _ in range(10):
        budget.record_call()
    assert [budget.try_spend() for _ in range(3)] == [True, True, False]
    clock.advance(10)
    assert not budget.try_spend(), "the calls that earned the retries have left the window"


def test_the_budget_floor_lets_a_quiet_system_retry() -> None:
    budget = RetryBudget(ratio=0.2, min_per_second=1, window=10, clock=ManualClock())
    spent = [budget.try_spend() for _ in range(11)]
    assert spent == [True] * 10 + [False]


async def test_a_call_that_succeeds_at_once_builds_no_retry_loop(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    loops: list[object] = []
    real = policy_module.retrying  # type: ignore[attr-defined]

    def counted(*args: Any, **kwargs: Any) -> Any:
        loops.append(args)
        return real(*args, **kwargs)

    monkeypatch.setattr(policy_module, "retrying", counted)
    policy = make_policy(ManualClock())
    assert await policy.call(ScriptedDependency("product"), idempotent=True) == "product"
    assert loops == []
    flaky = ScriptedDependency(UNAVAILABLE, "product")
    assert await policy.call(flaky, idempotent=True) == "product"
    assert (len(loops), flaky.calls) == (1, 2), "a failed first attempt enters the loop"
