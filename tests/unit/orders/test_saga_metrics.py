"""The saga metric families: every outcome of a style at zero, then counted and timed."""

from prometheus_client import CollectorRegistry

from shoplab.orders.adapters.metrics import SagaMetrics, SagaStyle
from shoplab.orders.domain.model import OrderStatus
from shoplab.platform.resilience import exposition


def test_a_style_shows_every_outcome_at_zero() -> None:
    registry = CollectorRegistry()
    SagaMetrics(registry).initialise(SagaStyle.CHOREOGRAPHY)
    text = exposition(registry)
    for outcome in ("approved", "rejected", "cancelled"):
        labels = f'outcome="{outcome}",style="choreography"'
        assert f"shoplab_saga_outcomes_total{{{labels}}} 0.0" in text
        assert f"shoplab_saga_duration_seconds_count{{{labels}}} 0.0" in text
    assert 'style="orchestration"' not in text


def test_an_outcome_is_counted_under_its_status_and_timed() -> None:
    registry = CollectorRegistry()
    metrics = SagaMetrics(registry)
    metrics.finished(SagaStyle.ORCHESTRATION, OrderStatus.REJECTED, 0.02)
    metrics.finished(SagaStyle.ORCHESTRATION, OrderStatus.REJECTED, 90.0)

    labels = {"style": "orchestration", "outcome": "rejected"}
    assert registry.get_sample_value("shoplab_saga_outcomes_total", labels) == 2
    bucket = "shoplab_saga_duration_seconds_bucket"
    assert registry.get_sample_value(bucket, {**labels, "le": "0.025"}) == 1
    assert registry.get_sample_value(bucket, {**labels, "le": "120.0"}) == 2
    assert registry.get_sample_value("shoplab_saga_duration_seconds_sum", labels) == 90.02
