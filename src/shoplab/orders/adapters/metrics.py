"""How the orders' sagas end, and how long they take, as Prometheus series.

- ``shoplab_saga_outcomes_total{style,outcome}``: sagas that reached a final status;
- ``shoplab_saga_duration_seconds{style,outcome}``: how long each took, a histogram.

``style`` is ``orchestration`` or ``choreography``; ``outcome`` the order's final status
(``approved``, ``rejected``, ``cancelled``). The reason of a rejection is no label: the
order history tells it per order. The series live on the process's registry, the one
``/metrics`` exposes, and those of a style are created at zero when its settlement is built.
"""

from enum import StrEnum
from functools import cache

from prometheus_client import REGISTRY, CollectorRegistry, Counter, Histogram

from shoplab.orders.domain.model import OrderStatus

OUTCOMES = (OrderStatus.APPROVED, OrderStatus.REJECTED, OrderStatus.CANCELLED)
BUCKETS = (0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0, 600.0)
"""From a saga settled by messages in a few ms to one whose steps timed out and were retried."""


class SagaStyle(StrEnum):
    ORCHESTRATION = "orchestration"
    CHOREOGRAPHY = "choreography"


class SagaMetrics:
    """The metric families, registered once per registry."""

    def __init__(self, registry: CollectorRegistry) -> None:
        labels = ("style", "outcome")
        self.outcomes = Counter(
            "shoplab_saga_outcomes", "Sagas that reached a final status.", labels, registry=registry
        )
        self.duration = Histogram(
            "shoplab_saga_duration_seconds",
            "From a placement (or a cancellation request) to the order's final status.",
            labels,
            buckets=BUCKETS,
            registry=registry,
        )

    def initialise(self, style: SagaStyle) -> None:
        for outcome in OUTCOMES:
            self.outcomes.labels(style, outcome.lower())
            self.duration.labels(style, outcome.lower())

    def finished(self, style: SagaStyle, outcome: OrderStatus, seconds: float) -> None:
        self.outcomes.labels(style, outcome.lower()).inc()
        self.duration.labels(style, outcome.lower()).observe(max(seconds, 0.0))


def saga_metrics(registry: CollectorRegistry = REGISTRY) -> SagaMetrics:
    """The families on ``registry``, created on first use."""
    return _families(registry)


@cache
def _families(registry: CollectorRegistry) -> SagaMetrics:
    return SagaMetrics(registry)
