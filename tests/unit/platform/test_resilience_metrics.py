"""Each pattern shows its state on the process's metrics."""

import asyncio

import grpc
import pytest
from prometheus_client import CollectorRegistry

from shoplab.platform.resilience import (
    BulkheadConfig,
    BulkheadFull,
    CircuitOpen,
    DeadlineExceeded,
    ManualClock,
    ResilienceConfig,
    RetryConfig,
    deadline,
    exposition,
)

from .test_resilience_fakes import ScriptedDependency, make_policy, rpc_error

LABELS = {"caller": "orders", "dependency": "catalog"}


def sample(registry: CollectorRegistry, name: str, **labels: str) -> float | None:
    return registry.get_sample_value(name, {**LABELS, **labels})


async def test_a_new_policy_shows_every_series_at_rest() -> None:
    registry = CollectorRegistry()
    make_policy(ManualClock(), registry=registry)
    text = exposition(registry)
    pair = 'caller="orders",dependency="catalog"'
    for series in (
        f"shoplab_breaker_state{{{pair}}} 0.0",
        f"shoplab_bulkhead_in_use{{{pair}}} 0.0",
        f"shoplab_retries_total{{{pair}}} 0.0",
        f"shoplab_retry_budget_exhausted_total{{{pair}}} 0.0",
        f"shoplab_bulkhead_rejected_total{{{pair}}} 0.0",
        f'shoplab_dependency_calls_total{{{pair},outcome="success"}} 0.0',
        f'shoplab_deadline_exceeded_total{{{pair},phase="before_call"}} 0.0',
    ):
        assert series in text


async def test_breaker_state_transitions_and_outcomes_are_counted() -> None:
    registry, clock = CollectorRegistry(), ManualClock()
    policy = make_policy(clock, registry=registry)
    failing = ScriptedDependency(rpc_error(grpc.StatusCode.UNAVAILABLE))
    for _ in range(10):
        with pytest.raises(grpc.aio.AioRpcError):
            await policy.call(failing)
    with pytest.raises(CircuitOpen):
        await policy.call(failing)

    assert sample(registry, "shoplab_breaker_state") == 1
    opened = {"from_state": "closed", "to_state": "open"}
    assert sample(registry, "shoplab_breaker_transitions_total", **opened) == 1
    assert sample(registry, "shoplab_dependency_calls_total", outcome="failure") == 10
    assert sample(registry, "shoplab_dependency_calls_total", outcome="circuit_open") == 1

    clock.advance(5)
    for _ in range(2):
        await policy.call(ScriptedDependency("product"))
    assert sample(registry, "shoplab_breaker_state") == 0
    assert sample(registry, "shoplab_dependency_calls_total", outcome="success") == 2
    closed = {"from_state": "half_open", "to_state": "closed"}
    assert sample(registry, "shoplab_breaker_transitions_total", **closed) == 1


async def test_retries_and_budget_exhaustion_are_counted() -> None:
    registry = CollectorRegistry()
    one_retry = RetryConfig(budget_ratio=0, budget_min_per_second=0.1)
    policy = make_policy(ManualClock(), ResilienceConfig(retry=one_retry), registry)
    with pytest.raises(grpc.aio.AioRpcError):
        await policy.call(
            ScriptedDependency(rpc_error(grpc.StatusCode.UNAVAILABLE)), idempotent=True
        )
    assert sample(registry, "shoplab_retries_total") == 1
    assert sample(registry, "shoplab_retry_budget_exhausted_total") == 1


async def test_bulkhead_and_deadline_refusals_are_counted() -> None:
    registry, clock = CollectorRegistry(), ManualClock()
    config = ResilienceConfig(bulkhead=BulkheadConfig(limit=1))
    policy = make_policy(clock, config, registry)
    release = asyncio.Event()

    async def held(seconds: float | None) -> None:
        await release.wait()

    first = asyncio.create_task(policy.call(held))
    await asyncio.sleep(0)
    assert sample(registry, "shoplab_bulkhead_in_use") == 1
    with pytest.raises(BulkheadFull):
        await policy.call(held)
    release.set()
    await first
    assert sample(registry, "shoplab_bulkhead_in_use") == 0
    assert sample(registry, "shoplab_bulkhead_rejected_total") == 1

    with deadline.within(0.1, clock):
        clock.advance(0.1)
        with pytest.raises(DeadlineExceeded):
            await policy.call(held)
    assert sample(registry, "shoplab_deadline_exceeded_total", phase="before_call") == 1
    assert sample(registry, "shoplab_dependency_calls_total", outcome="deadline_exceeded") == 1
