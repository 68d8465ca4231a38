"""The knee of the throughput curve and the percentiles, computed as docs/performance.md says."""

import pytest

from shoplab.bench.stats import knee, percentiles


def test_the_knee_is_the_last_step_that_still_paid() -> None:
    # 16 -> 64 gains 50%, 64 -> 256 gains 5%: saturated at 64.
    assert knee([(16, 200.0), (64, 300.0), (256, 315.0)]) == 1


def test_a_drop_after_a_step_puts_the_knee_before_it() -> None:
    assert knee([(16, 200.0), (64, 150.0), (256, 100.0)]) == 0


def test_a_curve_that_never_bends_has_its_knee_at_the_last_step() -> None:
    assert knee([(16, 100.0), (64, 200.0), (256, 400.0)]) == 2


def test_points_are_read_in_order_of_concurrency() -> None:
    assert knee([(256, 315.0), (16, 200.0), (64, 300.0)]) == 2  # the index of (64, 300)


def test_no_point_has_no_knee() -> None:
    with pytest.raises(ValueError, match="no throughput point"):
        knee([])


def test_percentiles_are_nearest_rank_in_milliseconds() -> None:
    samples = [n / 1000 for n in range(1, 101)]  # 1 ms to 100 ms
    assert percentiles(samples, (50, 99)) == {"p50": 50.0, "p99": 99.0}
    assert percentiles([0.004], (50, 99)) == {"p50": 4.0, "p99": 4.0}
    assert percentiles([], (50,)) == {"p50": 0.0}
