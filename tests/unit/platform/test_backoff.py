"""The relay's retry delay: exponential, capped, fully jittered."""

from datetime import timedelta

from shoplab.platform.messaging.relay import backoff


def test_backoff_stays_within_the_exponential_bound() -> None:
    for attempts in range(1, 6):
        bound = timedelta(seconds=0.5 * 2**attempts)
        delays = [backoff(attempts) for _ in range(200)]
        assert all(timedelta(0) <= delay <= bound for delay in delays)
        assert len(set(delays)) > 1


def test_backoff_is_capped() -> None:
    assert all(backoff(40) <= timedelta(seconds=30) for _ in range(200))
