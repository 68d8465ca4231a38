"""The trace context across the outbox and the broker.

HTTP and gRPC carry the trace context in their headers, and the libraries'
instrumentation does it. A message is different: it is written to the outbox in
one transaction, published by the relay later (after a crash, maybe much later, by
another run of the process), and handled by a consumer on the far side of a broker.
So the context is kept with the message at each step:

1. ``trace_context()``: when a unit of work adds a message to its outbox, the
   current context (the request or the message being handled) goes into the
   envelope, which is the outbox row.
2. ``publishing(envelope)``: the relay publishes inside a PRODUCER span whose parent
   is that stored context; the bus puts the span's context in the broker message's
   headers (``inject_into``). Over a broker the relay has many publishes in flight at
   once, so it starts each span itself and hands the headers over
   (``start_publishing``).
3. ``consuming(...)``: the consumer's CONSUMER span takes its parent from those
   headers (from the envelope when they have none), so one order's placement, saga
   steps and notification are one trace across processes and brokers.

Both brokers and the monolith's in-process transport go through these three
functions, so the context travels the same way whichever carries the message.

A message whose trace is not sampled gets no span at either end: its parent's context is
made current instead, so that it still travels on, and what the handler does stays out of
the trace as well.
"""

from collections.abc import Iterator, Mapping, MutableMapping
from contextlib import contextmanager
from datetime import UTC, datetime

from opentelemetry import propagate, trace
from opentelemetry.context import Context
from opentelemetry.trace import NonRecordingSpan, Span, SpanKind, Status, StatusCode

from shoplab.contracts.envelope import Envelope
from shoplab.platform.telemetry.orders import ORDER_ID

tracer = trace.get_tracer("shoplab.messaging")


def trace_context() -> dict[str, str]:
    """The current trace context as W3C headers (``traceparent``), to store with a message."""
    carrier: dict[str, str] = {}
    propagate.inject(carrier)
    return carrier


def inject_into(headers: MutableMapping[str, str]) -> None:
    """Add the current span's context to a broker message's headers."""
    propagate.inject(headers)


@contextmanager
def publishing(envelope: Envelope, system: str) -> Iterator[Span]:
    """The relay's span for one publish; a child of the context stored with the message."""
    parent = propagate.extract(envelope.trace_context)
    unsampled = _unsampled(parent)
    if unsampled is not None:
        with trace.use_span(unsampled):
            yield unsampled
        return
    waited = (datetime.now(UTC) - envelope.occurred_at).total_seconds()
    with tracer.start_as_current_span(
        f"publish {envelope.type}",
        context=parent,
        kind=SpanKind.PRODUCER,
        attributes={
            **_message_attributes(envelope, system),
            "shoplab.outbox.wait_ms": round(waited * 1000, 3),
        },
    ) as span:
        yield span


def start_publishing(envelope: Envelope, system: str) -> tuple[dict[str, str], Span | None]:
    """The trace headers of one publish of a stored message, and its span when recorded.

    The caller ends the span once the broker answered. A span is made only under a sampled
    parent (the publish is no entry point: with no parent, no trace starts here). Otherwise
    the stored context travels on as it is, and nothing is extracted or made.
    """
    stored = envelope.trace_context
    if not _stored_sampled(stored):
        return dict(stored), None
    span = tracer.start_span(
        f"publish {envelope.type}",
        context=propagate.extract(stored),
        kind=SpanKind.PRODUCER,
        attributes={
            **_message_attributes(envelope, system),
            "shoplab.outbox.wait_ms": round(
                (datetime.now(UTC) - envelope.occurred_at).total_seconds() * 1000, 3
            ),
        },
    )
    headers: dict[str, str] = {}
    propagate.inject(headers, context=trace.set_span_in_context(span))
    return headers, span


def _stored_sampled(stored: Mapping[str, str]) -> bool:
    """Whether a stored W3C ``traceparent`` (``00-<trace>-<span>-<flags>``) is sampled."""
    parent = stored.get("traceparent")
    if parent is None or len(parent) != 55:
        return False
    try:
        return bool(int(parent[53:], 16) & 1)
    except ValueError:
        return False


@contextmanager
def consuming(
    envelope: Envelope,
    consumer: str,
    system: str,
    *,
    headers: Mapping[str, str] | None = None,
    deliveries: int = 1,
) -> Iterator[Span]:
    """The span of one delivery's handling; its parent comes with the message.

    Without ``headers`` (the in-process transport) the parent is the current span,
    the relay's publish span.
    """
    parent = None
    if headers is not None:
        parent = propagate.extract(headers if "traceparent" in headers else envelope.trace_context)
    unsampled = _unsampled(parent)
    if unsampled is not None:
        with trace.use_span(unsampled):
            yield unsampled
        return
    with tracer.start_as_current_span(
        f"process {envelope.type}",
        context=parent,
        kind=SpanKind.CONSUMER,
        attributes={
            **_message_attributes(envelope, system),
            "messaging.consumer.group.name": consumer,
            "messaging.message.delivery_count": deliveries,
        },
        record_exception=False,
        set_status_on_exception=False,
    ) as span:
        yield span


def _unsampled(parent: Context | None) -> NonRecordingSpan | None:
    """The parent (``None``: the current span) as a span to make current, when it belongs to
    a trace that is not sampled; else None (sampled, or no trace: the sampler decides)."""
    context = trace.get_current_span(parent).get_span_context()
    if not context.is_valid or context.trace_flags.sampled:
        return None
    return NonRecordingSpan(context)


def failed(span: Span, error: BaseException) -> None:
    """Mark ``span`` as failed by ``error`` (for errors the caller handles itself)."""
    span.record_exception(error)
    span.set_status(Status(StatusCode.ERROR, f"{type(error).__name__}: {error}"[:500]))


def _message_attributes(envelope: Envelope, system: str) -> dict[str, str]:
    attributes = {
        "messaging.system": system,
        "messaging.destination.name": envelope.subject,
        "messaging.message.id": envelope.message_id,
    }
    if envelope.correlation_id:
        attributes[ORDER_ID] = envelope.correlation_id
    return attributes
