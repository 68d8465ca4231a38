"""The trace context over gRPC, on a real grpc.aio server: spans on both sides, or none.

The spans go to a provider of the test's own (the global one is set once a process); its
sampler starts a trace at an entry point, as every process's does, so a SERVER span that
lost its parent on the way would be recorded as a root and be seen.
"""

from collections.abc import Iterator

import grpc
import pytest
from opentelemetry import trace
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.sdk.trace.sampling import ParentBased
from opentelemetry.trace import NonRecordingSpan, SpanContext, SpanKind, StatusCode, TraceFlags

from shoplab.orders.adapters.remote import GrpcPriceList
from shoplab.platform.errors import Unavailable
from shoplab.platform.grpc import tracing
from shoplab.platform.telemetry.tracing import EntryPoints

from .test_grpc import Client, client, mail, money, port, shop, stock

__all__ = ["client", "mail", "money", "port", "shop", "stock"]

GET_PRICES = "/shoplab.catalog.v1.Catalog/GetPrices"
TRACE_ID = 0x0AF7651916CD43DD8448EB211C80319C
PARENT_ID = 0xB7AD6B7169203331


@pytest.fixture
def spans(monkeypatch: pytest.MonkeyPatch) -> InMemorySpanExporter:
    exporter = InMemorySpanExporter()
    provider = TracerProvider(sampler=ParentBased(root=EntryPoints()))
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    monkeypatch.setattr(tracing, "_CLIENT", provider.get_tracer("client"))
    monkeypatch.setattr(tracing, "_SERVER", provider.get_tracer("server"))
    return exporter


def under_parent(sampled: bool) -> Iterator[None]:
    """Make a caller's span current: a request's, sampled or not."""
    flags = TraceFlags(TraceFlags.SAMPLED if sampled else TraceFlags.DEFAULT)
    parent = SpanContext(TRACE_ID, PARENT_ID, is_remote=True, trace_flags=flags)
    with trace.use_span(NonRecordingSpan(parent)):
        yield


def one(spans: InMemorySpanExporter, kind: SpanKind) -> ReadableSpan:
    found = [span for span in spans.get_finished_spans() if span.kind is kind]
    assert len(found) == 1, found
    return found[0]


async def test_a_sampled_call_has_a_client_span_and_the_servers_under_it(
    client: Client, spans: InMemorySpanExporter
) -> None:
    prices = GrpcPriceList(client("catalog", "orders"))
    for _ in under_parent(sampled=True):
        assert await prices.prices(["SKU-1"])
    called, served = one(spans, SpanKind.CLIENT), one(spans, SpanKind.SERVER)
    assert called.name == served.name == GET_PRICES
    assert called.parent is not None
    assert called.parent.span_id == PARENT_ID
    assert served.parent is not None
    assert served.parent.span_id == called.context.span_id
    assert {called.context.trace_id, served.context.trace_id} == {TRACE_ID}
    for span in (called, served):
        assert span.attributes == {
            "rpc.system": "grpc",
            "rpc.service": "shoplab.catalog.v1.Catalog",
            "rpc.method": "GetPrices",
            "rpc.grpc.status_code": 0,
        }
        assert span.status.status_code is StatusCode.UNSET


async def test_an_unsampled_call_makes_no_span_on_either_side(
    client: Client, spans: InMemorySpanExporter
) -> None:
    """The server takes the caller's decision from the metadata: without it, its sampler
    would have started a trace of its own."""
    prices = GrpcPriceList(client("catalog", "orders"))
    for _ in under_parent(sampled=False):
        assert await prices.prices(["SKU-1"])
    assert spans.get_finished_spans() == ()


async def test_a_refused_call_fails_the_clients_span_not_the_servers(
    client: Client, spans: InMemorySpanExporter
) -> None:
    """PERMISSION_DENIED is the caller's fault: an error on its side, not on the server's."""
    prices = GrpcPriceList(client("catalog", "inventory"))
    for _ in under_parent(sampled=True):
        with pytest.raises(Unavailable):
            await prices.prices(["SKU-1"])
    denied = grpc.StatusCode.PERMISSION_DENIED.value[0]
    called = [s for s in spans.get_finished_spans() if s.kind is SpanKind.CLIENT]
    served = [s for s in spans.get_finished_spans() if s.kind is SpanKind.SERVER]
    assert called, "one span per attempt"
    assert served
    assert {(s.attributes or {}).get("rpc.grpc.status_code") for s in called + served} == {denied}
    assert {s.status.status_code for s in called} == {StatusCode.ERROR}
    assert {s.status.status_code for s in served} == {StatusCode.UNSET}
