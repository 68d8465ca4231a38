"""The view's lag as Prometheus gauges, one series per source, on the process's ``/metrics``."""

from prometheus_client import REGISTRY, CollectorRegistry, Gauge

from shoplab.history.service_layer.projector import Lag


class LagGauges:
    def __init__(self, registry: CollectorRegistry = REGISTRY) -> None:
        self.messages = Gauge(
            "shoplab_history_lag_messages",
            "Events of a source the order history has not applied yet.",
            ["source"],
            registry=registry,
        )
        self.seconds = Gauge(
            "shoplab_history_lag_seconds",
            "How much older the history's newest applied event is than the log's newest.",
            ["source"],
            registry=registry,
        )

    def show(self, lags: list[Lag]) -> None:
        for lag in lags:
            self.messages.labels(lag.source).set(lag.messages)
            self.seconds.labels(lag.source).set(lag.seconds)
