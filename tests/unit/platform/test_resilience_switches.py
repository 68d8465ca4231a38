"""Each pattern can be switched off for a process by one setting, and is on by default."""

import grpc
import pytest
from prometheus_client import CollectorRegistry

from shoplab.platform.resilience import (
    BreakerConfig,
    BulkheadConfig,
    ManualClock,
    Resilience,
    ResilienceConfig,
    ResilienceMetrics,
    ResilienceSettings,
    RetryConfig,
)

from .test_resilience_fakes import ScriptedDependency, rpc_error


def resilience(settings: ResilienceSettings | None = None) -> Resilience:
    clock = ManualClock()
    metrics = ResilienceMetrics(CollectorRegistry())
    return Resilience("orders", settings=settings, metrics=metrics, clock=clock, sleep=clock.sleep)


def test_every_pattern_is_on_by_default(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("DEADLINES", "RETRIES", "RETRY_BUDGET", "BREAKER", "BULKHEAD"):
        monkeypatch.delenv(f"SHOPLAB_RESILIENCE_{name}", raising=False)
    config = resilience().policy("catalog").config
    assert config.deadlines
    assert config.retry.enabled
    assert config.retry.budget_enabled
    assert config.breaker.enabled
    assert config.bulkhead.enabled


def test_one_setting_switches_one_pattern_off(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SHOPLAB_RESILIENCE_BREAKER", "false")
    monkeypatch.setenv("SHOPLAB_RESILIENCE_RETRY_BUDGET", "false")
    config = resilience(ResilienceSettings()).policy("catalog").config
    assert not config.breaker.enabled
    assert not config.retry.budget_enabled
    assert config.retry.enabled
    assert config.bulkhead.enabled
    assert config.deadlines


async def test_with_retries_switched_off_an_idempotent_call_is_tried_once() -> None:
    policy = resilience(ResilienceSettings(retries=False)).policy("catalog")
    dependency = ScriptedDependency(rpc_error(grpc.StatusCode.UNAVAILABLE), "product")
    with pytest.raises(grpc.aio.AioRpcError):
        await policy.call(dependency, idempotent=True)
    assert dependency.calls == 1


def test_a_dependency_has_one_policy_per_process() -> None:
    shared = resilience()
    assert shared.policy("catalog") is shared.policy("catalog")
    assert shared.policy("catalog") is not shared.policy("inventory")
    with pytest.raises(ValueError, match="orders→catalog"):
        shared.policy("catalog", ResilienceConfig(retry=RetryConfig(max_retries=5)))


def test_unsafe_values_are_refused() -> None:
    with pytest.raises(ValueError, match="failure_rate"):
        BreakerConfig(failure_rate=0)
    with pytest.raises(ValueError, match="limit"):
        BulkheadConfig(limit=0)
