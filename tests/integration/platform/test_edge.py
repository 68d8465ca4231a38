"""The ``Edge``, the one layer of ``create_app``: every answer secured and counted, and a
SERVER span only for a sampled trace, whose context still reaches the calls it makes."""

from typing import Any

import httpx
import pytest
from fastapi import APIRouter, FastAPI
from opentelemetry import propagate, trace
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.sdk.trace.sampling import ParentBased
from prometheus_client import CollectorRegistry

from shoplab.platform.http import edge, server_span
from shoplab.platform.http.app import create_app
from shoplab.platform.http.security_headers import SECURITY_HEADERS
from shoplab.platform.telemetry.tracing import EntryPoints

TRACE_ID = "4bf92f3577b34da6a3ce929d0e0e4736"
PARENT_ID = "00f067aa0ba902b7"


def app_with(registry: CollectorRegistry) -> FastAPI:
    router = APIRouter()

    @router.get("/api/calls/{name}")
    async def call(name: str) -> dict[str, Any]:
        """What a call made from here would carry: the current trace context."""
        carrier: dict[str, str] = {}
        propagate.inject(carrier)
        return {"name": name, "sent": carrier}

    return create_app(title="t", routers=[router], readiness={}, metrics_registry=registry)


@pytest.fixture
def spans(monkeypatch: pytest.MonkeyPatch) -> InMemorySpanExporter:
    """The server spans, from a provider of their own (the global one is set once a process)."""
    exporter = InMemorySpanExporter()
    provider = TracerProvider(sampler=ParentBased(root=EntryPoints(max_per_second=1)))
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    monkeypatch.setattr(server_span, "_TRACER", provider.get_tracer("test"))
    return exporter


async def get(app: FastAPI, path: str, headers: dict[str, str] | None = None) -> httpx.Response:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
        return await client.get(path, headers=headers)


def sampled(traceparent: str) -> bool:
    return bool(int(traceparent.rsplit("-", 1)[1], 16) & 1)


def counted(registry: CollectorRegistry, route: str, status: str) -> float | None:
    labels = {"method": "GET", "route": route, "status": status}
    return registry.get_sample_value("shoplab_http_requests_total", labels)


async def test_an_answer_is_secured_and_counted_under_its_route() -> None:
    registry = CollectorRegistry()
    answer = await get(app_with(registry), "/api/calls/a")
    assert answer.status_code == 200
    for name, value in SECURITY_HEADERS:
        assert answer.headers[name] == value
    assert counted(registry, "/api/calls/{name}", "200") == 1.0


async def test_a_sampled_parent_gets_a_server_span_under_it(spans: InMemorySpanExporter) -> None:
    traceparent = f"00-{TRACE_ID}-{PARENT_ID}-01"
    answer = await get(app_with(CollectorRegistry()), "/api/calls/a", {"traceparent": traceparent})
    (span,) = spans.get_finished_spans()
    assert span.name == "GET /api/calls/{name}"
    assert span.kind is trace.SpanKind.SERVER
    assert span.parent is not None
    assert format(span.parent.span_id, "016x") == PARENT_ID
    assert span.attributes is not None
    assert span.attributes["http.route"] == "/api/calls/{name}"
    assert span.attributes["http.response.status_code"] == 200
    assert span.attributes["url.path"] == "/api/calls/a"
    sent = answer.json()["sent"]["traceparent"]
    assert sent.startswith(f"00-{TRACE_ID}-{format(span.context.span_id, '016x')}-")
    assert sampled(sent)


async def test_an_unsampled_parent_makes_no_span_and_is_passed_on(
    spans: InMemorySpanExporter, monkeypatch: pytest.MonkeyPatch
) -> None:
    started: list[str] = []
    real = server_span._TRACER

    def counting(name: str, **options: Any) -> trace.Span:
        started.append(name)
        return real.start_span(name, **options)

    monkeypatch.setattr(real, "start_span", counting)
    traceparent = f"00-{TRACE_ID}-{PARENT_ID}-00"
    answer = await get(app_with(CollectorRegistry()), "/api/calls/a", {"traceparent": traceparent})
    assert answer.status_code == 200
    assert started == []
    assert spans.get_finished_spans() == ()
    assert answer.json()["sent"]["traceparent"] == traceparent


async def test_a_root_past_the_sampler_bound_makes_no_span_but_says_so_downstream(
    spans: InMemorySpanExporter,
) -> None:
    app = app_with(CollectorRegistry())
    first, second = await get(app, "/api/calls/a"), await get(app, "/api/calls/b")
    assert len(spans.get_finished_spans()) == 1  # one trace a second
    assert sampled(first.json()["sent"]["traceparent"])
    assert not sampled(second.json()["sent"]["traceparent"])


async def test_probes_are_neither_counted_nor_traced(spans: InMemorySpanExporter) -> None:
    registry = CollectorRegistry()
    answer = await get(app_with(registry), "/health/live")
    assert answer.headers["X-Frame-Options"] == "DENY"
    assert spans.get_finished_spans() == ()
    assert (
        registry.get_sample_value(
            "shoplab_http_requests_total",
            {"method": "GET", "route": "/health/live", "status": "200"},
        )
        is None
    )


async def test_route_templates_are_remembered_within_a_bound(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(edge, "ROUTES_REMEMBERED", 3)
    registry = CollectorRegistry()
    app = app_with(registry)
    for name in ["a", "b", "a", "c", "d", "e", "a"]:
        assert (await get(app, f"/api/calls/{name}")).status_code == 200
    assert (await get(app, "/nowhere")).status_code == 404
    assert counted(registry, "/api/calls/{name}", "200") == 7.0
    assert counted(registry, "unmatched", "404") == 1.0
    served = app.middleware_stack
    assert isinstance(served, edge.Edge)
    assert 1 <= len(served._templates) <= 3
