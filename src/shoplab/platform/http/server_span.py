"""A request's SERVER span, made only when its trace is sampled.

The parent comes from the ``traceparent`` header. Under a parent that is not sampled no
span is made: the parent's context becomes current as it is, so the calls the request
makes pass the same decision on. Without a parent the process's sampler decides (entry
points only, at most so many a second, see ``telemetry.tracing``); a refused root is a
non-recording context with fresh ids, again only so that its callees agree. A sampled
span carries what the HTTP semantic conventions ask of a server span.
"""

from urllib.parse import parse_qsl, urlencode

from opentelemetry import context, propagate, trace
from opentelemetry.context import Context
from opentelemetry.trace import Span, SpanKind, StatusCode
from starlette.types import Scope

_TRACER = trace.get_tracer("shoplab.http.server")
_EMPTY = Context()
TRACE_HEADERS = frozenset({b"traceparent", b"tracestate", b"baggage"})
SENSITIVE_QUERY_PARAMETERS = frozenset(
    {"X-Amz-Signature", "X-Amz-Credential", "X-Amz-Security-Token", "sig", "X-Goog-Signature"}
)
DEFAULT_PORTS = {"http": 80, "https": 443}


class ServerSpan:
    """The span of one request (or none), and the context it made current until ``end``."""

    __slots__ = ("_token", "span")

    def __init__(self, span: Span | None, token: object) -> None:
        self.span = span
        self._token = token

    def end(self, status: int | None, route: str | None, error: BaseException | None) -> None:
        """Record the outcome (a 5xx or an exception is an error) and restore the context."""
        span = self.span
        if span is not None:
            failed = error is not None or status is None or status >= 500
            if route is not None:
                span.set_attribute("http.route", route)
            if status is not None:
                span.set_attribute("http.response.status_code", status)
            if failed:
                span.set_attribute("error.type", _error_type(error, status))
                span.set_status(StatusCode.ERROR)
            span.end()
        context.detach(self._token)  # type: ignore[arg-type]


def begin(
    scope: Scope, trace_headers: dict[str, str], method: str, route: str | None
) -> ServerSpan:
    """Make the request's trace context current, with a span when it is sampled.

    ``method`` is a standard method or ``_OTHER``; ``route`` the template matched, if any.
    """
    parent = propagate.extract(trace_headers) if trace_headers else _EMPTY
    parent_flags = trace.get_current_span(parent).get_span_context()
    if parent_flags.is_valid and not parent_flags.trace_flags.sampled:
        return ServerSpan(None, context.attach(parent))
    verb = "HTTP" if method == "_OTHER" else method
    span = _TRACER.start_span(
        f"{verb} {route}" if route else verb, context=parent, kind=SpanKind.SERVER
    )
    current = trace.set_span_in_context(span, parent)
    if not span.is_recording():
        return ServerSpan(None, context.attach(current))
    span.set_attributes(_attributes(scope, method, route))
    return ServerSpan(span, context.attach(current))


def _attributes(scope: Scope, method: str, route: str | None) -> dict[str, str | int]:
    attributes: dict[str, str | int] = {
        "url.scheme": scope.get("scheme", "http"),
        "http.request.method": method,
        "url.path": scope["path"],
        **_server_address(scope),
    }
    if scope.get("http_version"):
        attributes["network.protocol.version"] = scope["http_version"]
    if method != scope["method"]:
        attributes["http.request.method_original"] = scope["method"]
    if scope.get("query_string"):
        attributes["url.query"] = _redacted(scope["query_string"].decode("latin-1"))
    if route is not None:
        attributes["http.route"] = route
    return attributes


def _server_address(scope: Scope) -> dict[str, str | int]:
    """The host the client asked for (``Host``), else the server's own address."""
    host = next((value for name, value in scope["headers"] if name == b"host"), None)
    if host is None:
        address, port = scope.get("server") or (None, None)
        if address is None:
            return {}
        return (
            {"server.address": address}
            if port is None
            else {"server.address": address, "server.port": port}
        )
    name, _, port_text = host.decode("latin-1").rpartition(":")
    if not name or not port_text.isdigit():
        name, port_text = host.decode("latin-1"), ""
    default = DEFAULT_PORTS.get(scope.get("scheme", "http"), 80)
    return {"server.address": name, "server.port": int(port_text) if port_text else default}


def _redacted(query: str) -> str:
    pairs = parse_qsl(query, keep_blank_values=True)
    return urlencode([(k, "REDACTED" if k in SENSITIVE_QUERY_PARAMETERS else v) for k, v in pairs])


def _error_type(error: BaseException | None, status: int | None) -> str:
    if error is not None:
        kind = type(error)
        return (
            kind.__qualname__
            if kind.__module__ == "builtins"
            else f"{kind.__module__}.{kind.__qualname__}"
        )
    return str(status) if status is not None else "incomplete_response"
