"""The trace context across the outbox and a real broker: one trace from request to handler.

A "request" span writes a command to the outbox; the relay publishes it over
NATS, RabbitMQ or the monolith's in-process transport; inventory's real handler
takes it and answers through its own outbox. The spans must chain request →
publish → process, and the answer must carry the handler's context onwards.
"""

import asyncio
import uuid
from collections.abc import AsyncIterator

import pytest
from opentelemetry import trace
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind

from shoplab.contracts.commands import ReserveStock
from shoplab.contracts.envelope import Envelope
from shoplab.inventory.adapters.tables import outbox
from shoplab.inventory.bootstrap import InventoryContext
from shoplab.platform.messaging.consumers import InProcessPublisher, Publisher
from shoplab.platform.messaging.jetstream.bus import NatsBus
from shoplab.platform.messaging.rabbitmq.bus import RabbitBus
from shoplab.platform.messaging.rabbitmq.topology import RabbitTopology, delete_namespace
from shoplab.platform.messaging.relay import OutboxRelay
from shoplab.platform.messaging.streams import Topology
from shoplab.platform.persistence.database import Database

from ..inventory import context
from ..nats_server import nats_url
from ..rabbitmq import rabbitmq_url

__all__ = ["context", "nats_url", "rabbitmq_url"]

SETTLE_SECONDS = 10.0
_exporter: InMemorySpanExporter | None = None


@pytest.fixture
def spans() -> InMemorySpanExporter:
    """The spans this process finished (the tracer provider can be set once per process)."""
    global _exporter
    if _exporter is None:
        _exporter = InMemorySpanExporter()
        provider = TracerProvider()
        provider.add_span_processor(SimpleSpanProcessor(_exporter))
        trace.set_tracer_provider(provider)
    _exporter.clear()
    return _exporter


@pytest.fixture(params=["in-process", "nats", "rabbitmq"])
async def transport(
    request: pytest.FixtureRequest, context: InventoryContext, nats_url: str, rabbitmq_url: str
) -> AsyncIterator[tuple[Publisher, str]]:
    """The relay's publisher, with inventory's consumers behind it, and its system name."""
    if request.param == "in-process":
        yield InProcessPublisher(context.subscriptions()), "in-process"
        return
    namespace = Topology(namespace=f"t{uuid.uuid4().hex[:12]}")
    bus: NatsBus | RabbitBus
    if request.param == "nats":
        bus = NatsBus(nats_url, service="test", topology=namespace)
    else:
        bus = RabbitBus(rabbitmq_url, service="test", topology=namespace)
    bus.subscribe(context.subscriptions())
    await bus.start()
    try:
        yield bus, bus.system
    finally:
        await bus.stop()
        if isinstance(bus, RabbitBus):
            await delete_namespace(rabbitmq_url, RabbitTopology(namespace))


def finished(spans: InMemorySpanExporter, name: str) -> ReadableSpan | None:
    return next((s for s in spans.get_finished_spans() if s.name == name), None)


async def wait_for_span(spans: InMemorySpanExporter, name: str) -> ReadableSpan:
    deadline = asyncio.get_running_loop().time() + SETTLE_SECONDS
    while (span := finished(spans, name)) is None:
        if asyncio.get_running_loop().time() > deadline:
            names = [s.name for s in spans.get_finished_spans()]
            raise AssertionError(f"no span {name!r} within {SETTLE_SECONDS} s; saw {names}")
        await asyncio.sleep(0.05)
    return span


async def test_request_publish_and_handling_are_one_trace(
    spans: InMemorySpanExporter,
    context: InventoryContext,
    transport: tuple[Publisher, str],
) -> None:
    publisher, system = transport
    order_id = str(uuid.uuid4())
    tracer = trace.get_tracer("test")
    with tracer.start_as_current_span("POST /api/orders", kind=SpanKind.SERVER) as request:
        async with context.uow() as uow:
            await uow.publish(
                ReserveStock(order_id=order_id, lines={"SKU-1": 1}), correlation_id=order_id
            )
            await uow.commit()
    relay = OutboxRelay(context.database, [outbox], publisher, system=system)
    await relay.drain()

    handled = await wait_for_span(spans, "process ReserveStock")
    published = await wait_for_span(spans, "publish ReserveStock")
    trace_id = request.get_span_context().trace_id
    assert {handled.context.trace_id, published.context.trace_id} == {trace_id}
    assert published.parent is not None
    assert handled.parent is not None
    assert published.parent.span_id == request.get_span_context().span_id
    assert handled.parent.span_id == published.context.span_id
    assert (published.kind, handled.kind) == (SpanKind.PRODUCER, SpanKind.CONSUMER)
    assert handled.attributes is not None
    assert published.attributes is not None
    assert handled.attributes["order_id"] == order_id
    assert handled.attributes["messaging.system"] == published.attributes["messaging.system"]
    assert published.attributes["messaging.system"] == system

    answer = await stored_answer(context.database)
    assert answer.type == "StockReserved"
    assert answer.trace_context["traceparent"].split("-")[1:3] == [
        format(trace_id, "032x"),
        format(handled.context.span_id, "016x"),
    ]


async def stored_answer(database: Database) -> Envelope:
    """The handler's answer, as its outbox row holds it."""
    async with database.transaction(read_only=True) as sql:
        rows = await sql.all(f"SELECT envelope FROM {outbox.name}")
    answers = [Envelope.model_validate_json(row.envelope) for row in rows]
    return next(a for a in answers if a.type != "ReserveStock")
