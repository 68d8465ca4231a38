"""The telemetry chassis: the span file, what starts a trace, spans that cost nothing when
not sampled, and log lines under a span."""

import json
from pathlib import Path

import pytest
import structlog
from opentelemetry import trace
from opentelemetry.sdk.resources import SERVICE_INSTANCE_ID, SERVICE_NAME, Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.sdk.trace.sampling import Decision, ParentBased
from opentelemetry.trace import (
    NonRecordingSpan,
    SpanContext,
    SpanKind,
    Status,
    StatusCode,
    TraceFlags,
)

from shoplab.contracts.envelope import Envelope
from shoplab.platform.telemetry import messages, tracing
from shoplab.platform.telemetry.logs import add_trace_context, in_words
from shoplab.platform.telemetry.orders import about_order
from shoplab.platform.telemetry.span_files import JsonLinesSpanExporter
from shoplab.platform.telemetry.tracing import EntryPoints


def provider(exporter: JsonLinesSpanExporter, sample_ratio: float = 1.0) -> TracerProvider:
    """A provider of its own (not the process's global one), as ``configure_tracing`` builds."""
    tracer_provider = TracerProvider(
        resource=Resource.create({SERVICE_NAME: "orders", SERVICE_INSTANCE_ID: "orders-2"}),
        sampler=ParentBased(root=EntryPoints(sample_ratio)),
    )
    tracer_provider.add_span_processor(SimpleSpanProcessor(exporter))
    return tracer_provider


def lines(path: Path) -> list[dict[str, object]]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def test_spans_are_written_one_json_line_each_with_parent_links(tmp_path: Path) -> None:
    path = tmp_path / "traces" / "orders-2.jsonl"
    tracer = provider(JsonLinesSpanExporter(path)).get_tracer("test")

    with tracer.start_as_current_span("POST /api/orders", kind=SpanKind.SERVER) as request:
        about_order("o-1")
        with tracer.start_as_current_span("INSERT orders", kind=SpanKind.CLIENT) as insert:
            insert.set_status(Status(StatusCode.ERROR, "locked"))

    child, parent = lines(path)
    context = request.get_span_context()
    assert parent["trace_id"] == child["trace_id"] == format(context.trace_id, "032x")
    assert parent["parent_id"] is None
    assert child["parent_id"] == parent["span_id"] == format(context.span_id, "016x")
    assert (parent["service"], parent["instance"]) == ("orders", "orders-2")
    assert (parent["name"], parent["kind"], parent["status"]) == (
        "POST /api/orders",
        "SERVER",
        "UNSET",
    )
    assert parent["attributes"] == {"order_id": "o-1"}
    assert child["status"] == "ERROR"
    assert child["attributes"] == {"status.description": "locked"}
    assert str(parent["start"]) <= str(child["start"]) <= str(child["end"]) <= str(parent["end"])


def test_a_full_span_file_is_rotated_and_one_old_file_kept(tmp_path: Path) -> None:
    path = tmp_path / "orders-2.jsonl"
    tracer = provider(JsonLinesSpanExporter(path, max_bytes=2_000)).get_tracer("test")

    for number in range(40):
        with tracer.start_as_current_span(f"request {number}", kind=SpanKind.SERVER):
            pass

    rotated = path.with_name("orders-2.jsonl.1")
    assert rotated.exists()
    assert path.stat().st_size < 2_000 + 1_000
    names = [line["name"] for line in lines(rotated) + lines(path)]
    assert names == sorted(names, key=lambda name: int(str(name).split()[1]))
    assert names[-1] == "request 39"


def test_traces_start_only_at_entry_points(tmp_path: Path) -> None:
    """A database call with no request behind it (a background loop) is no trace at all."""
    path = tmp_path / "orders-2.jsonl"
    tracer = provider(JsonLinesSpanExporter(path)).get_tracer("test")

    with tracer.start_as_current_span("SELECT outbox", kind=SpanKind.CLIENT):
        pass
    with tracer.start_as_current_span("poll", kind=SpanKind.INTERNAL):
        pass
    for kind in (SpanKind.SERVER, SpanKind.CONSUMER, SpanKind.PRODUCER):
        with (
            tracer.start_as_current_span(kind.name, kind=kind),
            tracer.start_as_current_span("SELECT orders", kind=SpanKind.CLIENT),
        ):
            pass

    kept = [(line["name"], line["parent_id"] is None) for line in lines(path)]
    assert ("SELECT outbox", True) not in kept
    assert ("poll", True) not in kept
    assert sorted(kept) == sorted(
        [(kind, True) for kind in ("SERVER", "CONSUMER", "PRODUCER")]
        + [("SELECT orders", False)] * 3
    )


def test_a_zero_ratio_keeps_no_trace(tmp_path: Path) -> None:
    path = tmp_path / "orders-2.jsonl"
    tracer = provider(JsonLinesSpanExporter(path), sample_ratio=0.0).get_tracer("test")

    with tracer.start_as_current_span("POST /api/orders", kind=SpanKind.SERVER):
        pass

    assert path.read_text() == ""


def test_a_log_line_under_a_span_carries_its_ids_and_order(tmp_path: Path) -> None:
    tracer = provider(JsonLinesSpanExporter(tmp_path / "x.jsonl")).get_tracer("test")
    event: structlog.types.EventDict = {"event": "order placed"}

    with tracer.start_as_current_span("POST /api/orders", kind=SpanKind.SERVER) as span:
        about_order("o-7")
        add_trace_context(None, "info", event)

    context = span.get_span_context()
    assert event == {
        "event": "order placed",
        "trace_id": format(context.trace_id, "032x"),
        "span_id": format(context.span_id, "016x"),
        "order_id": "o-7",
    }


def test_a_log_line_outside_any_span_has_no_trace() -> None:
    event: structlog.types.EventDict = {"event": "service started"}

    assert add_trace_context(None, "info", event) == {"event": "service started"}


def test_message_names_read_as_words() -> None:
    assert in_words("StockReserved") == "stock reserved"
    assert in_words("PaymentFailed") == "payment failed"


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def sampled_roots(sampler: EntryPoints, count: int) -> int:
    return sum(
        sampler.should_sample(None, 1, "request", SpanKind.SERVER).decision
        is Decision.RECORD_AND_SAMPLE
        for _ in range(count)
    )


def test_at_most_the_bound_of_new_traces_start_each_second() -> None:
    clock = Clock()
    sampler = EntryPoints(max_per_second=3, clock=clock)
    assert sampled_roots(sampler, 10) == 3, "a second's worth at once, then none"
    clock.now = 1 / 3
    assert sampled_roots(sampler, 10) == 1
    clock.now = 100.0
    assert sampled_roots(sampler, 10) == 3, "idle time does not pile up beyond one second"
    assert sampled_roots(EntryPoints(max_per_second=0, clock=clock), 500) == 500


def test_a_trace_under_way_is_kept_whole_past_the_bound(tmp_path: Path) -> None:
    """The bound is on new traces: the spans of a sampled one follow their parent."""
    path = tmp_path / "orders-2.jsonl"
    clock = Clock()
    tracer_provider = TracerProvider(
        sampler=ParentBased(root=EntryPoints(max_per_second=1, clock=clock))
    )
    tracer_provider.add_span_processor(SimpleSpanProcessor(JsonLinesSpanExporter(path)))
    tracer = tracer_provider.get_tracer("test")

    with tracer.start_as_current_span("first", kind=SpanKind.SERVER):
        for number in range(5):
            with tracer.start_as_current_span(f"step {number}", kind=SpanKind.CLIENT):
                pass
    with (
        tracer.start_as_current_span("second", kind=SpanKind.SERVER) as refused,
        tracer.start_as_current_span("its step", kind=SpanKind.CLIENT),
    ):
        pass

    assert not refused.get_span_context().trace_flags.sampled
    names = {line["name"] for line in lines(path)}
    assert names == {"first", *(f"step {number}" for number in range(5))}


TRACE_ID, SPAN_ID = 0x0AF7651916CD43DD8448EB211C80319C, 0xB7AD6B7169203331


def parent(*, sampled: bool) -> NonRecordingSpan:
    flags = TraceFlags(TraceFlags.SAMPLED if sampled else TraceFlags.DEFAULT)
    return NonRecordingSpan(SpanContext(TRACE_ID, SPAN_ID, is_remote=True, trace_flags=flags))


def traceparent(*, sampled: bool) -> str:
    return f"00-{TRACE_ID:032x}-{SPAN_ID:016x}-{'01' if sampled else '00'}"


@pytest.fixture
def recorded(monkeypatch: pytest.MonkeyPatch) -> InMemorySpanExporter:
    """The spans the project's span sites make, recorded by a provider of the test's own."""
    exporter = InMemorySpanExporter()
    tracer_provider = TracerProvider(sampler=ParentBased(root=EntryPoints()))
    tracer_provider.add_span_processor(SimpleSpanProcessor(exporter))
    monkeypatch.setattr(tracing, "_HTTP_CLIENT", tracer_provider.get_tracer("http"))
    monkeypatch.setattr(messages, "tracer", tracer_provider.get_tracer("messaging"))
    return exporter


@pytest.mark.parametrize("sampled", [True, False])
def test_an_http_client_span_only_under_a_sampled_parent_and_the_context_always_travels(
    recorded: InMemorySpanExporter, sampled: bool
) -> None:
    headers: dict[str, str] = {}
    with trace.use_span(parent(sampled=sampled)):
        assert tracing.parent_sampled() is sampled
        with tracing.http_client_span("GET", "http://orders/api/orders/o1", headers) as span:
            tracing.answered(span, 200)

    assert len(recorded.get_finished_spans()) == (1 if sampled else 0)
    if not sampled:
        assert headers["traceparent"] == traceparent(sampled=False)


def envelope(trace_context: dict[str, str]) -> Envelope:
    return Envelope(
        type="OrderPlaced",
        version=1,
        subject="shoplab.orders.events.OrderPlaced",
        trace_context=trace_context,
        payload={},
    )


@pytest.mark.parametrize("sampled", [True, False])
def test_message_spans_only_under_a_sampled_parent_and_the_context_always_travels(
    recorded: InMemorySpanExporter, sampled: bool
) -> None:
    stored = {"traceparent": traceparent(sampled=sampled)}
    sent: dict[str, str] = {}
    with messages.publishing(envelope(stored), "nats"):
        messages.inject_into(sent)
    with messages.consuming(envelope(stored), "payments", "nats", headers=sent):
        assert tracing.parent_sampled() is sampled
        handled = messages.trace_context()

    assert len(recorded.get_finished_spans()) == (2 if sampled else 0)
    trace_id = f"{TRACE_ID:032x}"
    assert sent["traceparent"].split("-")[1] == handled["traceparent"].split("-")[1] == trace_id
    if not sampled:
        assert sent["traceparent"] == handled["traceparent"] == stored["traceparent"]


def test_a_message_of_no_trace_still_starts_one(recorded: InMemorySpanExporter) -> None:
    with messages.consuming(envelope({}), "payments", "nats", headers={}):
        pass
    assert [span.name for span in recorded.get_finished_spans()] == ["process OrderPlaced"]
