"""The trace context over gRPC: a CLIENT span around each call, a SERVER span around each
handling, and the ``traceparent`` in the call's metadata between them.

These are the project's own span sites, like the HTTP client's (``http_client_span``) and
the edge's (``http.server_span``), and they follow the same rule: under a parent that is
not sampled no span is made, and the parent's context still travels with the call, so the
server agrees on the trace's fate. OpenTelemetry's gRPC instrumentation did the same work
in interceptors of its own that cost more than the call between two processes on this
machine (a placement's price question: docs/performance.md has the figures), sampled or
not. What a trace shows is unchanged: spans named after the full method
(``/shoplab.catalog.v1.Catalog/GetPrices``), the server's a child of the client's, with the
RPC semantic conventions' attributes and the status code the call ended with.
"""

import asyncio
from typing import Any, TypeVar

import grpc
import grpc.aio
from opentelemetry import context, propagate, trace
from opentelemetry.context import Context
from opentelemetry.trace import Span, SpanKind, StatusCode

from shoplab.platform.grpc.metrics import ClientContinuation, Continuation, Handler
from shoplab.platform.telemetry.tracing import parent_sampled

Request = TypeVar("Request")
Response = TypeVar("Response")

_CLIENT = trace.get_tracer("shoplab.grpc.client")
_SERVER = trace.get_tracer("shoplab.grpc.server")
_EMPTY = Context()
TRACE_KEYS = frozenset({"traceparent", "tracestate", "baggage"})
SERVER_ERRORS = frozenset(
    {
        grpc.StatusCode.UNKNOWN,
        grpc.StatusCode.DEADLINE_EXCEEDED,
        grpc.StatusCode.UNIMPLEMENTED,
        grpc.StatusCode.INTERNAL,
        grpc.StatusCode.UNAVAILABLE,
        grpc.StatusCode.DATA_LOSS,
    }
)
"""The codes that make a server span an error (the RPC semantic conventions); on the
client every code but OK does."""


def rpc_attributes(full_method: str) -> dict[str, str]:
    """``/shoplab.catalog.v1.Catalog/GetPrices`` → system, service and method attributes."""
    service, _, method = full_method.removeprefix("/").partition("/")
    return {"rpc.system": "grpc", "rpc.service": service, "rpc.method": method}


def ended(span: Span, code: grpc.StatusCode, errors: frozenset[grpc.StatusCode] | None) -> None:
    """Record the call's status code on ``span`` and end it; ``errors``: the codes that are
    failures (None: every code but OK)."""
    span.set_attribute("rpc.grpc.status_code", code.value[0])
    failed = code is not grpc.StatusCode.OK if errors is None else code in errors
    if failed:
        span.set_status(StatusCode.ERROR, code.name)
    span.end()


class ClientTracing(grpc.aio.UnaryUnaryClientInterceptor):
    """The CLIENT span of each call (when its parent is sampled) and the trace context in
    the call's metadata (always)."""

    async def intercept_unary_unary(
        self,
        continuation: ClientContinuation[Request, Response],
        client_call_details: grpc.aio.ClientCallDetails,
        request: Request,
    ) -> grpc.aio.UnaryUnaryCall[Request, Response]:
        method: str | bytes = client_call_details.method  # grpc.aio passes bytes
        name = method.decode() if isinstance(method, bytes) else method
        if not parent_sampled():
            return await continuation(_with_trace_context(client_call_details), request)
        span = _CLIENT.start_span(name, kind=SpanKind.CLIENT, attributes=rpc_attributes(name))
        with trace.use_span(span, end_on_exit=False):
            details = _with_trace_context(client_call_details)
        try:
            call = await continuation(details, request)
            code = await call.code()  # waits for the end of the call, failed or not
        except asyncio.CancelledError:
            ended(span, grpc.StatusCode.CANCELLED, None)
            raise
        except BaseException as error:
            span.record_exception(error)
            ended(span, grpc.StatusCode.UNKNOWN, None)
            raise
        ended(span, code, None)
        return call


def _with_trace_context(details: grpc.aio.ClientCallDetails) -> grpc.aio.ClientCallDetails:
    """The call's details with the current trace context in its metadata."""
    carrier: dict[str, str] = {}
    propagate.inject(carrier)
    if not carrier:
        return details
    metadata = grpc.aio.Metadata(*(details.metadata or ()))
    for key, value in carrier.items():
        metadata[key] = value
    return grpc.aio.ClientCallDetails(
        details.method, details.timeout, metadata, details.credentials, details.wait_for_ready
    )


class ServerTracing(grpc.aio.ServerInterceptor):
    """The SERVER span of each handling, its parent from the call's metadata.

    Under a parent that is not sampled the parent's context is made current, no span; with
    no parent the process's sampler decides (a SERVER span is an entry point).
    """

    async def intercept_service(
        self, continuation: Continuation, handler_call_details: grpc.HandlerCallDetails
    ) -> Handler | None:
        handler = await continuation(handler_call_details)
        if handler is None or handler.unary_unary is None:
            return handler
        method, servicer = handler_call_details.method, handler.unary_unary
        carrier = {
            key: value
            for key, value in handler_call_details.invocation_metadata or ()
            if key in TRACE_KEYS and isinstance(value, str)
        }

        async def traced(request: Any, servicer_context: Any) -> Any:
            parent = propagate.extract(carrier) if carrier else _EMPTY
            found = trace.get_current_span(parent).get_span_context()
            if found.is_valid and not found.trace_flags.sampled:
                token = context.attach(parent)
                try:
                    return await servicer(request, servicer_context)
                finally:
                    context.detach(token)
            span = _SERVER.start_span(
                method, context=parent, kind=SpanKind.SERVER, attributes=rpc_attributes(method)
            )
            with trace.use_span(span, end_on_exit=False):
                try:
                    response = await servicer(request, servicer_context)
                except asyncio.CancelledError:
                    ended(span, grpc.StatusCode.CANCELLED, SERVER_ERRORS)
                    raise
                except grpc.aio.AbortError:
                    ended(span, servicer_context.code() or grpc.StatusCode.UNKNOWN, SERVER_ERRORS)
                    raise
                except BaseException as error:
                    span.record_exception(error)
                    ended(span, grpc.StatusCode.UNKNOWN, SERVER_ERRORS)
                    raise
            ended(span, servicer_context.code() or grpc.StatusCode.OK, SERVER_ERRORS)
            return response

        return grpc.unary_unary_rpc_method_handler(
            traced,
            request_deserializer=handler.request_deserializer,
            response_serializer=handler.response_serializer,
        )
