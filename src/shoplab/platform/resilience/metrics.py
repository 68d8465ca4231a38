"""Each pattern's state as Prometheus series, labelled by caller and dependency.

The series live on the process's registry (``prometheus_client.REGISTRY`` unless
told otherwise), the one ``/metrics`` exposes, next to any other library's.
Every series of a dependency is created at zero when its policy is built, so a
dashboard shows a flat line, not a gap, until the first event.
"""

from dataclasses import dataclass
from functools import cache

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Gauge,
    generate_latest,
)

from shoplab.platform.resilience.breaker import State

CONTENT_TYPE = CONTENT_TYPE_LATEST

OUTCOMES = (
    "success",
    "business_error",
    "failure",
    "deadline_exceeded",
    "circuit_open",
    "bulkhead_full",
    "cancelled",
)
_LABELS = ("caller", "dependency")


class ResilienceMetrics:
    """The metric families, registered once per registry."""

    def __init__(self, registry: CollectorRegistry = REGISTRY) -> None:
        def counter(name: str, doc: str, *extra: str) -> Counter:
            return Counter(name, doc, (*_LABELS, *extra), registry=registry)

        def gauge(name: str, doc: str) -> Gauge:
            return Gauge(name, doc, _LABELS, registry=registry)

        self.breaker_state = gauge(
            "shoplab_breaker_state", "Circuit breaker state: 0 closed, 1 open, 2 half-open."
        )
        self.transitions = counter(
            "shoplab_breaker_transitions", "Breaker state changes.", "from_state", "to_state"
        )
        self.calls = counter(
            "shoplab_dependency_calls", "Calls to a dependency, by how they ended.", "outcome"
        )
        self.retries = counter("shoplab_retries", "Attempts made after the first one.")
        self.budget_exhausted = counter(
            "shoplab_retry_budget_exhausted", "Retries refused because the budget was spent."
        )
        self.bulkhead_in_use = gauge("shoplab_bulkhead_in_use", "Calls in flight.")
        self.bulkhead_rejected = counter(
            "shoplab_bulkhead_rejected", "Calls refused because the bulkhead was full."
        )
        self.deadline_exceeded = counter(
            "shoplab_deadline_exceeded",
            "Calls cut short by their deadline; phase before_call means never sent.",
            "phase",
        )

    def for_dependency(self, caller: str, dependency: str) -> "DependencyMetrics":
        bound = DependencyMetrics(self, caller, dependency)
        bound.initialise()
        return bound


@dataclass(frozen=True)
class DependencyMetrics:
    """The series of one ``caller→dependency`` pair."""

    families: ResilienceMetrics
    caller: str
    dependency: str

    def initialise(self) -> None:
        self.families.breaker_state.labels(self.caller, self.dependency).set(State.CLOSED)
        self.families.bulkhead_in_use.labels(self.caller, self.dependency).set(0)
        for family in (self.families.retries, self.families.budget_exhausted):
            family.labels(self.caller, self.dependency)
        self.families.bulkhead_rejected.labels(self.caller, self.dependency)
        for outcome in OUTCOMES:
            self.families.calls.labels(self.caller, self.dependency, outcome)
        for phase in ("before_call", "during_call"):
            self.families.deadline_exceeded.labels(self.caller, self.dependency, phase)

    def transition(self, old: State, new: State) -> None:
        self.families.breaker_state.labels(self.caller, self.dependency).set(new)
        names = (old.name.lower(), new.name.lower())
        self.families.transitions.labels(self.caller, self.dependency, *names).inc()

    def call(self, outcome: str) -> None:
        self.families.calls.labels(self.caller, self.dependency, outcome).inc()

    def retry(self) -> None:
        self.families.retries.labels(self.caller, self.dependency).inc()

    def budget_exhausted(self) -> None:
        self.families.budget_exhausted.labels(self.caller, self.dependency).inc()

    def in_use(self, count: int) -> None:
        self.families.bulkhead_in_use.labels(self.caller, self.dependency).set(count)

    def bulkhead_rejected(self) -> None:
        self.families.bulkhead_rejected.labels(self.caller, self.dependency).inc()

    def deadline_exceeded(self, *, called: bool) -> None:
        phase = "during_call" if called else "before_call"
        self.families.deadline_exceeded.labels(self.caller, self.dependency, phase).inc()


@cache
def process_metrics() -> ResilienceMetrics:
    """The families on the process's default registry, created on first use."""
    return ResilienceMetrics(REGISTRY)


def exposition(registry: CollectorRegistry = REGISTRY) -> str:
    """The Prometheus text exposition of a registry: the body ``/metrics`` answers with."""
    return generate_latest(registry).decode()
