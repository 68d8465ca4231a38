"""With ``OTEL_EXPORTER_OTLP_ENDPOINT`` set, spans go to that collector, not the data folder.

The collector here is a plain HTTP server that decodes what arrives as OTLP protobuf,
the request Jaeger, Tempo or an OpenTelemetry Collector would receive.
"""

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.sdk.resources import SERVICE_NAME, Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.trace import SpanKind

from shoplab.platform.telemetry.span_files import JsonLinesSpanExporter
from shoplab.platform.telemetry.tracing import exporter_for


class Collector(ThreadingHTTPServer):
    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Receive)
        self.requests: list[tuple[str, ExportTraceServiceRequest]] = []


class _Receive(BaseHTTPRequestHandler):
    server: Collector

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        self.server.requests.append((self.path, ExportTraceServiceRequest.FromString(body)))
        self.send_response(200)
        self.send_header("Content-Type", "application/x-protobuf")
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, format: str, *args: object) -> None:
        """Quiet: the test reads what arrived, not the server's access log."""


@pytest.fixture
def collector() -> Iterator[Collector]:
    server = Collector()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


def test_spans_go_to_the_configured_collector(
    collector: Collector, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_ENDPOINT", f"http://127.0.0.1:{collector.server_port}")
    span_file = tmp_path / "traces" / "orders-1.jsonl"
    provider = TracerProvider(resource=Resource.create({SERVICE_NAME: "orders"}))
    provider.add_span_processor(SimpleSpanProcessor(exporter_for(span_file)))

    with provider.get_tracer("test").start_as_current_span(
        "POST /api/orders", kind=SpanKind.SERVER
    ):
        pass
    provider.shutdown()

    assert [path for path, _ in collector.requests] == ["/v1/traces"]
    [(_, request)] = collector.requests
    [resource_spans] = request.resource_spans
    service = {a.key: a.value.string_value for a in resource_spans.resource.attributes}
    assert service[SERVICE_NAME] == "orders"
    assert [s.name for scope in resource_spans.scope_spans for s in scope.spans] == [
        "POST /api/orders"
    ]
    assert not span_file.exists()


def test_without_a_collector_spans_go_to_the_data_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("OTEL_EXPORTER_OTLP_ENDPOINT", raising=False)
    monkeypatch.delenv("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", raising=False)

    assert isinstance(exporter_for(tmp_path / "orders-1.jsonl"), JsonLinesSpanExporter)
