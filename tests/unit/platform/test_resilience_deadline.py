"""Deadlines: a call's timeout is never more than what its request has left, across hops."""

import aiohttp
import grpc
import pytest

from shoplab.platform.resilience import (
    DeadlineExceeded,
    ManualClock,
    ResilienceConfig,
    State,
    deadline,
)

from .test_resilience_fakes import ScriptedDependency, make_policy, rpc_error


async def test_an_expired_inherited_deadline_fails_fast_without_calling() -> None:
    clock = ManualClock()
    policy = make_policy(clock)
    dependency = ScriptedDependency()
    with deadline.within(0.5, clock):
        clock.advance(0.5)
        with pytest.raises(DeadlineExceeded) as refused:
            await policy.call(dependency, idempotent=True)
    assert not refused.value.called
    assert dependency.calls == 0


async def test_the_inherited_deadline_shrinks_a_calls_timeout() -> None:
    clock = ManualClock()
    policy = make_policy(clock, ResilienceConfig(timeout=2.0))
    dependency = ScriptedDependency()
    await policy.call(dependency)
    with deadline.within(0.3, clock):
        await policy.call(dependency)
    with deadline.within(5.0, clock):
        await policy.call(dependency)
    assert dependency.timeouts == pytest.approx([2.0, 0.3, 2.0])


async def test_retries_share_the_calls_deadline() -> None:
    clock = ManualClock()
    dependency = ScriptedDependency(rpc_error(grpc.StatusCode.UNAVAILABLE), "product")
    await make_policy(clock, ResilienceConfig(timeout=2.0)).call(dependency, idempotent=True)
    first, second = dependency.timeouts
    assert first == 2.0
    assert second == pytest.approx(2.0 - clock.slept[0])


async def test_the_call_passes_its_deadline_on_to_the_next_hop() -> None:
    clock = ManualClock()

    async def forward(seconds: float | None) -> dict[str, str]:
        return deadline.to_header(clock)

    with deadline.within(0.75, clock):
        assert await make_policy(clock).call(forward) == {deadline.HEADER: "750"}
    assert deadline.to_header(clock) == {}


async def test_a_timeout_during_the_call_is_a_failure_and_not_retried() -> None:
    dependency = ScriptedDependency(TimeoutError(), "product")
    policy = make_policy(ManualClock())
    with pytest.raises(DeadlineExceeded) as cut:
        await policy.call(dependency, idempotent=True)
    assert cut.value.called
    assert dependency.calls == 1


async def test_a_connection_not_made_in_time_is_tried_again() -> None:
    """aiohttp's connect timeout is a TimeoutError, but nothing was sent: not a deadline."""
    dependency = ScriptedDependency(aiohttp.ConnectionTimeoutError(), "product")
    policy = make_policy(ManualClock())
    assert await policy.call(dependency, idempotent=True) == "product"
    assert dependency.calls == 2


async def test_a_timed_out_call_counts_against_the_breaker() -> None:
    policy = make_policy(ManualClock())
    for _ in range(10):
        with pytest.raises(DeadlineExceeded):
            await policy.call(ScriptedDependency(TimeoutError()))
    assert policy.breaker.state is State.OPEN


async def test_with_deadlines_switched_off_nothing_is_cut_short() -> None:
    clock = ManualClock()
    dependency = ScriptedDependency()
    policy = make_policy(clock, ResilienceConfig(deadlines=False))
    with deadline.within(0.5, clock):
        clock.advance(1)
        await policy.call(dependency)
    assert dependency.timeouts == [None]


def test_a_server_inherits_the_deadline_of_its_caller() -> None:
    clock = ManualClock()

    class GrpcContext:
        def time_remaining(self) -> float | None:
            return 1.5

    with deadline.inherit_grpc(GrpcContext(), clock):
        assert deadline.remaining(clock) == 1.5
    with deadline.inherit_http({deadline.HEADER: "250"}, clock):
        assert deadline.remaining(clock) == 0.25
        with deadline.within(1.0, clock):
            assert deadline.remaining(clock) == 0.25, "an inner scope never extends the deadline"
    assert deadline.remaining(clock) is None


@pytest.mark.parametrize(
    ("header", "seconds"),
    [("250", 0.25), ("-5", 0.0), ("soon", None), ("nan", None), (None, None)],
)
def test_the_header_is_read_safely(header: str | None, seconds: float | None) -> None:
    assert deadline.from_header(header) == seconds
