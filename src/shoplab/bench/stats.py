"""The few statistics the report needs: percentiles and the knee of the throughput curve."""

import itertools
import math
from collections.abc import Sequence

KNEE_GAIN = 0.10
"""A step to more concurrency that adds less than this share of settled orders/s is past
the knee: the system is saturated, and more in flight only adds waiting."""


def percentiles(samples: Sequence[float], ranks: tuple[int, ...]) -> dict[str, float]:
    """Nearest-rank percentiles of samples in seconds, in milliseconds (0 for no samples)."""
    ordered = sorted(samples)
    if not ordered:
        return {f"p{rank}": 0.0 for rank in ranks}
    return {
        f"p{rank}": round(ordered[max(math.ceil(rank / 100 * len(ordered)) - 1, 0)] * 1000, 2)
        for rank in ranks
    }


def knee(points: Sequence[tuple[int, float]]) -> int:
    """The index of the knee among (concurrency, settled orders/s) points.

    Points are taken in order of concurrency. The knee is the first point whose next
    step gains less than ``KNEE_GAIN`` (including a drop): beyond it more orders in flight
    buy no throughput. When every step gains, the knee is the last point measured (the
    curve had not bent yet, and the report says so by showing all the points).
    """
    if not points:
        raise ValueError("no throughput point to find a knee in")
    order = sorted(range(len(points)), key=lambda i: points[i][0])
    for here, following in itertools.pairwise(order):
        if points[following][1] < points[here][1] * (1 + KNEE_GAIN):
            return here
    return order[-1]
