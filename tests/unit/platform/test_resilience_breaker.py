"""The circuit breaker: opens on the failure rate once enough calls are in, recovers by trials."""

import grpc
import pytest

from shoplab.platform.errors import Conflict, NotFound
from shoplab.platform.resilience import (
    BreakerConfig,
    CircuitBreaker,
    CircuitOpen,
    ManualClock,
    ResilienceConfig,
    State,
)
from shoplab.platform.resilience.breaker import Outcome

from .test_resilience_fakes import ScriptedDependency, make_policy, rpc_error

CONFIG = BreakerConfig(window=10, minimum_calls=10, failure_rate=0.5, open_seconds=5)


def breaker(clock: ManualClock, config: BreakerConfig = CONFIG) -> CircuitBreaker:
    return CircuitBreaker("catalog", config, clock)


def state(subject: CircuitBreaker) -> State:
    """The state, read through a call so that the type checker does not pin it between reads."""
    return subject.state


def record(subject: CircuitBreaker, *outcomes: Outcome) -> None:
    for outcome in outcomes:
        subject.release(subject.acquire(), outcome)


def open_breaker(clock: ManualClock) -> CircuitBreaker:
    subject = breaker(clock)
    record(subject, *[Outcome.FAILURE] * 10)
    assert state(subject) is State.OPEN
    return subject


def test_it_stays_closed_below_the_minimum_calls_then_opens_on_reaching_it() -> None:
    subject = breaker(ManualClock())
    record(subject, *[Outcome.FAILURE] * 9)
    assert state(subject) is State.CLOSED
    record(subject, Outcome.FAILURE)
    assert state(subject) is State.OPEN


def test_it_opens_at_the_failure_rate_and_not_below_it() -> None:
    below = breaker(ManualClock())
    record(below, *[Outcome.SUCCESS] * 6, *[Outcome.FAILURE] * 4)
    assert state(below) is State.CLOSED

    at = breaker(ManualClock())
    record(at, *[Outcome.SUCCESS] * 5, *[Outcome.FAILURE] * 5)
    assert state(at) is State.OPEN


def test_outcomes_older_than_the_window_are_forgotten() -> None:
    clock = ManualClock()
    subject = breaker(clock)
    record(subject, *[Outcome.FAILURE] * 9)
    clock.advance(10)
    record(subject, Outcome.FAILURE)
    assert state(subject) is State.CLOSED


def test_open_refuses_at_once_until_the_open_time_has_passed() -> None:
    clock = ManualClock()
    subject = open_breaker(clock)
    clock.advance(4.9)
    with pytest.raises(CircuitOpen):
        subject.acquire()
    clock.advance(0.1)
    assert state(subject) is State.HALF_OPEN


def test_half_open_lets_only_the_trials_through_and_closes_when_they_succeed() -> None:
    clock = ManualClock()
    subject = open_breaker(clock)
    clock.advance(5)
    trials = [subject.acquire(), subject.acquire()]
    with pytest.raises(CircuitOpen):
        subject.acquire()
    subject.release(trials[0], Outcome.SUCCESS)
    assert state(subject) is State.HALF_OPEN
    subject.release(trials[1], Outcome.SUCCESS)
    assert state(subject) is State.CLOSED
    record(subject, *[Outcome.FAILURE] * 9)
    assert state(subject) is State.CLOSED, "closing starts a fresh window"


def test_a_failed_trial_opens_again_for_a_whole_open_time() -> None:
    clock = ManualClock()
    subject = open_breaker(clock)
    clock.advance(5)
    subject.release(subject.acquire(), Outcome.FAILURE)
    assert state(subject) is State.OPEN
    clock.advance(4.9)
    assert state(subject) is State.OPEN
    clock.advance(0.1)
    assert state(subject) is State.HALF_OPEN


def test_an_abandoned_trial_frees_its_place() -> None:
    clock = ManualClock()
    subject = open_breaker(clock)
    clock.advance(5)
    first, second = subject.acquire(), subject.acquire()
    subject.release(first, Outcome.ABANDONED)
    third = subject.acquire()
    for permit in (second, third):
        subject.release(permit, Outcome.SUCCESS)
    assert state(subject) is State.CLOSED


def test_a_call_that_started_before_the_breaker_opened_does_not_count_after() -> None:
    clock = ManualClock()
    subject = breaker(clock)
    slow = subject.acquire()
    record(subject, *[Outcome.FAILURE] * 10)
    clock.advance(5)
    assert state(subject) is State.HALF_OPEN
    subject.release(slow, Outcome.SUCCESS)
    subject.release(subject.acquire(), Outcome.SUCCESS)
    assert state(subject) is State.HALF_OPEN, "one trial of two succeeded; the old call is no trial"


async def test_business_errors_and_refusals_never_open_the_breaker() -> None:
    policy = make_policy(ManualClock())
    answers = [
        NotFound("no such product"),
        Conflict("card declined"),
        rpc_error(grpc.StatusCode.NOT_FOUND),
        rpc_error(grpc.StatusCode.INVALID_ARGUMENT),
        rpc_error(grpc.StatusCode.PERMISSION_DENIED),
    ]
    for answer in answers:
        dependency = ScriptedDependency(answer)
        for _ in range(10):
            with pytest.raises(type(answer)):
                await policy.call(dependency)
        assert dependency.calls == 10
    assert policy.breaker.state is State.CLOSED


async def test_an_open_breaker_refuses_calls_without_making_them() -> None:
    policy = make_policy(ManualClock())
    dependency = ScriptedDependency(rpc_error(grpc.StatusCode.UNAVAILABLE))
    for _ in range(10):
        with pytest.raises(grpc.aio.AioRpcError):
            await policy.call(dependency)
    with pytest.raises(CircuitOpen, match="catalog"):
        await policy.call(dependency)
    assert dependency.calls == 10


async def test_a_switched_off_breaker_never_opens() -> None:
    config = ResilienceConfig(breaker=BreakerConfig(enabled=False))
    policy = make_policy(ManualClock(), config)
    dependency = ScriptedDependency(rpc_error(grpc.StatusCode.UNAVAILABLE))
    for _ in range(30):
        with pytest.raises(grpc.aio.AioRpcError):
            await policy.call(dependency)
    assert dependency.calls == 30
