"""The process's tracer: what is instrumented, what is kept, and where spans go.

``configure_tracing`` runs first thing in every process (service, gateway,
monolith). Every span site is the project's own:

- The ``Edge`` makes the HTTP server spans (``http.server_span``). The gateway's HTTP
  client makes its client spans with ``http_client_span``, which also puts the
  ``traceparent`` header on the request, so each service's span is a child. gRPC: a span on
  each side of a call (``grpc.tracing``), the context in the call's metadata. The
  database: a span per transaction (``unit_of_work``), and with ``SHOPLAB_TRACE_SQL=true``
  one per SQL statement.
- What is kept: a trace starts only at an entry point (a request served, a message
  published or handled); a span that has a parent follows its parent's decision.
  Background work (the relay polling, heartbeats, lag probes) touches the database
  every second with no request behind it: those would be thousands of one-span traces
  of nothing. At most ``trace_max_per_second`` new traces start each second in a process
  (50 by default): a learner's few orders a second are all traced, while under load the
  cost of tracing stays bounded. ``trace_sample_ratio`` thins the entry points further.
- What costs nothing: the project's own span sites (HTTP client, units of work, messages)
  start no span at all under a parent that is not sampled; they still pass the parent's
  context on (``traceparent``), so every process agrees on the trace's fate.
- Where spans go: to the collector named by ``OTEL_EXPORTER_OTLP_ENDPOINT`` (or
  ``OTEL_EXPORTER_OTLP_TRACES_ENDPOINT``) when set (OTLP over HTTP: Jaeger, Tempo, an
  OpenTelemetry Collector), otherwise to this process's span file under the data folder.
"""

import os
import threading
import time
from collections.abc import Callable, Iterator, MutableMapping, Sequence
from contextlib import contextmanager
from pathlib import Path

from opentelemetry import propagate, trace
from opentelemetry.context import Context
from opentelemetry.sdk.resources import SERVICE_INSTANCE_ID, SERVICE_NAME, Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, SpanExporter
from opentelemetry.sdk.trace.sampling import (
    Decision,
    ParentBased,
    Sampler,
    SamplingResult,
    TraceIdRatioBased,
)
from opentelemetry.semconv.attributes.http_attributes import (
    HTTP_REQUEST_METHOD,
    HTTP_RESPONSE_STATUS_CODE,
)
from opentelemetry.semconv.attributes.url_attributes import URL_FULL
from opentelemetry.trace import INVALID_SPAN, Link, Span, SpanKind, StatusCode, TraceState
from opentelemetry.util.types import Attributes

from shoplab.platform.telemetry.span_files import JsonLinesSpanExporter

OTLP_ENDPOINT_VARIABLES = ("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "OTEL_EXPORTER_OTLP_ENDPOINT")
EXPORT_EVERY_MILLISECONDS = 1000
ENTRY_POINTS = frozenset({SpanKind.SERVER, SpanKind.CONSUMER, SpanKind.PRODUCER})
_HTTP_CLIENT = trace.get_tracer("shoplab.http.client")


DEFAULT_MAX_TRACES_PER_SECOND = 50.0


class EntryPoints(Sampler):
    """Start traces only at entry points (requests, messages); keep ``ratio`` of them, and
    at most ``max_per_second`` a second (0: no bound).

    The bound is a token bucket holding one second's worth: a burst of that many is traced
    whole, then one trace every ``1 / max_per_second`` seconds.
    """

    def __init__(
        self,
        ratio: float = 1.0,
        *,
        max_per_second: float = 0.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._ratio = TraceIdRatioBased(ratio)
        self._rate = max_per_second
        self._clock = clock
        self._tokens = max_per_second
        self._filled_at = clock()
        self._lock = threading.Lock()

    def should_sample(
        self,
        parent_context: Context | None,
        trace_id: int,
        name: str,
        kind: SpanKind | None = None,
        attributes: Attributes = None,
        links: Sequence[Link] | None = None,
        trace_state: TraceState | None = None,
    ) -> SamplingResult:
        if kind not in ENTRY_POINTS:
            return SamplingResult(Decision.DROP)
        result = self._ratio.should_sample(
            parent_context, trace_id, name, kind, attributes, links, trace_state
        )
        if result.decision is Decision.RECORD_AND_SAMPLE and self._rate > 0 and not self._take():
            return SamplingResult(Decision.DROP)
        return result

    def _take(self) -> bool:
        """One token from the bucket, if there is one left."""
        with self._lock:
            now = self._clock()
            self._tokens = min(self._rate, self._tokens + (now - self._filled_at) * self._rate)
            self._filled_at = now
            if self._tokens < 1:
                return False
            self._tokens -= 1
            return True

    def get_description(self) -> str:
        bound = f", at most {self._rate:g}/s" if self._rate > 0 else ""
        return f"EntryPoints({self._ratio.get_description()}{bound})"


def parent_sampled() -> bool:
    """Whether the current span is sampled: a span started under it would be recorded.

    The project's span sites ask first, and start nothing when the answer is no: under an
    unsampled parent a span would record nothing, yet cost as much to make and end. With no
    parent at all the answer is no as well, right for every site that is not an entry point
    (the sampler would drop it).
    """
    return trace.get_current_span().get_span_context().trace_flags.sampled


def otlp_endpoint() -> str | None:
    """The collector spans go to, when one is configured."""
    return next((os.environ[v] for v in OTLP_ENDPOINT_VARIABLES if os.environ.get(v)), None)


def span_file(data_dir: Path, service: str, instance: str) -> Path:
    return data_dir / "traces" / f"{service}-{instance}.jsonl"


def configure_tracing(
    service: str,
    instance: str,
    data_dir: Path,
    *,
    sample_ratio: float = 1.0,
    max_traces_per_second: float = DEFAULT_MAX_TRACES_PER_SECOND,
) -> TracerProvider:
    """Install this process's tracer provider and instrument the libraries it uses."""
    provider = TracerProvider(
        resource=Resource.create(
            {SERVICE_NAME: service, SERVICE_INSTANCE_ID: f"{service}-{instance}"}
        ),
        sampler=ParentBased(root=EntryPoints(sample_ratio, max_per_second=max_traces_per_second)),
    )
    provider.add_span_processor(
        BatchSpanProcessor(
            exporter_for(span_file(data_dir, service, instance)),
            schedule_delay_millis=EXPORT_EVERY_MILLISECONDS,
        )
    )
    trace.set_tracer_provider(provider)
    return provider


@contextmanager
def http_client_span(method: str, url: str, headers: MutableMapping[str, str]) -> Iterator[Span]:
    """A CLIENT span around one HTTP request, its ``traceparent`` put into ``headers``.

    The method, the URL, the status (give it to ``answered``) and the header: what a trace
    needs of a client library's instrumentor, without the hooks it runs on every request.
    Under a parent that is not sampled, no span: the parent's context goes on the request.
    """
    if not parent_sampled():
        propagate.inject(headers)
        yield INVALID_SPAN
        return
    attributes = {HTTP_REQUEST_METHOD: method, URL_FULL: url}
    with _HTTP_CLIENT.start_as_current_span(
        method, kind=SpanKind.CLIENT, attributes=attributes
    ) as span:
        propagate.inject(headers)
        yield span


def answered(span: Span, status: int) -> None:
    """Record an answer's status; from 400 on, a client span is an error (semantic conventions)."""
    if span.is_recording():
        span.set_attribute(HTTP_RESPONSE_STATUS_CODE, status)
        if status >= 400:
            span.set_status(StatusCode.ERROR)


def exporter_for(path: Path) -> SpanExporter:
    """The collector when one is configured, else the span file at ``path``."""
    if otlp_endpoint() is None:
        return JsonLinesSpanExporter(path)
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

    return OTLPSpanExporter()  # reads the endpoint, headers and timeout from OTEL_* variables
