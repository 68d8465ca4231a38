"""Messaging as Prometheus series: what flows in and out, what is stuck, what gave up.

Labelled by subject and consumer (both fixed by the contracts, so the series stay
few). ``shoplab_outbox_backlog`` and ``shoplab_outbox_oldest_age_seconds`` are the
first place to look when events seem late: a growing backlog means the relay
cannot publish (broker down), an old oldest row means it is stuck on one row.
"""

from functools import cache

from prometheus_client import REGISTRY, CollectorRegistry, Counter, Gauge, Histogram

OUTCOMES = ("ack", "retry", "dead_letter")
"""What became of a delivery: the values of ``messaging.Verdict``."""
HANDLING_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0)


class MessagingMetrics:
    def __init__(self, registry: CollectorRegistry = REGISTRY) -> None:
        self.published = Counter(
            "shoplab_messages_published",
            "Messages the outbox relay published (the broker confirmed them).",
            ["subject"],
            registry=registry,
        )
        self.consumed = Counter(
            "shoplab_messages_consumed",
            "Deliveries handled by a consumer, by outcome: ack, retry or dead_letter.",
            ["consumer", "subject", "outcome"],
            registry=registry,
        )
        self.redeliveries = Counter(
            "shoplab_message_redeliveries",
            "Deliveries of a message the consumer had been given before.",
            ["consumer"],
            registry=registry,
        )
        self.dead_letters = Counter(
            "shoplab_dead_letters",
            "Messages a consumer gave up on and sent to its dead-letter subject.",
            ["consumer"],
            registry=registry,
        )
        self.handling = Histogram(
            "shoplab_message_handling_seconds",
            "How long a consumer took to handle one delivery, its transaction included.",
            ["consumer"],
            buckets=HANDLING_BUCKETS,
            registry=registry,
        )
        self.outbox_backlog = Gauge(
            "shoplab_outbox_backlog",
            "Outbox rows not yet published (dead ones excluded).",
            ["outbox"],
            registry=registry,
        )
        self.outbox_oldest_age = Gauge(
            "shoplab_outbox_oldest_age_seconds",
            "Age of the oldest outbox row not yet published (0 when none waits).",
            ["outbox"],
            registry=registry,
        )
        self.outbox_dead = Counter(
            "shoplab_outbox_dead_letters",
            "Outbox rows the relay gave up on after its attempts.",
            ["outbox"],
            registry=registry,
        )

    def consumer_started(self, consumer: str, subject: str) -> None:
        """Create a consumer's series at zero, so dashboards show a line, not a gap."""
        for outcome in OUTCOMES:
            self.consumed.labels(consumer, subject, outcome)
        self.redeliveries.labels(consumer)
        self.dead_letters.labels(consumer)


@cache
def messaging_metrics() -> MessagingMetrics:
    """The families on the process's default registry, created on first use."""
    return MessagingMetrics(REGISTRY)
