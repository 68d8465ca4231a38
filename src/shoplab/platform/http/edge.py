"""The one ASGI layer between the server and the routes.

Every request passes here once, and here only, on its way in and out:

- its answer gets the security headers (``security_headers``), whoever produced it;
- it is counted and timed (``metrics``) under its route template, unless it is a probe
  or a scrape;
- it gets a SERVER span when its trace is sampled, and its trace context either way
  (``server_span``);
- header fields too large are refused (431), and so is a body too large (413) or too
  slow (408) (``limits``);
- an unexpected error is answered with the app's 500 problem, then raised for the server
  to log, as Starlette's own error middleware does.

A ``Lane``, when the app has one, stands before the routes: what it takes never reaches
the router, and the route templates it names are not searched for.

Between the head and the body, the app's own gates run (``create_app``'s ``middleware``:
the services' guard and fault injection, the edge's rate limits), so that what they answer
is secured, counted and traced too, and a refused request's body is never read.
"""

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from time import perf_counter

from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from shoplab.platform.http import limits, server_span
from shoplab.platform.http.docs_csp import DOCS_PATH
from shoplab.platform.http.edge_settings import EdgeSettings
from shoplab.platform.http.lane import Lane
from shoplab.platform.http.metrics import HttpMetrics, method_of, route_of, unmeasured
from shoplab.platform.http.security_headers import DocsPage, secured

ErrorHandler = Callable[[Request, Exception], Awaitable[Response]]
ROUTES_REMEMBERED = 4096
"""Paths whose route template the edge remembers; past that it forgets them all and starts
again (paths with ids in them are many, and each is seen once or twice)."""
_SPAN_METHOD = {"OTHER": "_OTHER"}


class Answer:
    """The ``send`` of one request: secures the head, and remembers its status."""

    __slots__ = ("_send", "status")

    def __init__(self, send: Send) -> None:
        self._send = send
        self.status: int | None = None

    async def __call__(self, message: Message) -> None:
        if message["type"] == "http.response.start":
            self.status = message["status"]
            message["headers"] = secured(list(message.get("headers", ())))
        await self._send(message)


class Edge:
    def __init__(
        self,
        routes: ASGIApp,
        *,
        gates: Sequence[Middleware],
        cors: Sequence[Middleware] = (),
        settings: EdgeSettings,
        metrics: HttpMetrics,
        on_error: ErrorHandler | None,
        lane: Lane | None = None,
    ) -> None:
        """``routes``: the router with its exception handlers; ``gates``, first outermost.

        ``cors`` (none unless origins are configured) answers preflights before the
        request metrics, as a layer of its own, but inside the security headers.
        """
        self._routes = routes
        self._served = routes if lane is None else lane.before(routes)
        self._template = _no_template if lane is None else lane.template
        self._settings = settings
        self._metrics = metrics
        self._on_error = on_error
        self._gated = _wrapped(self._body_stage, gates)
        self._entry = _wrapped(self._measured, cors)
        self._templates: dict[tuple[str, str], str] = {}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":  # the lifespan, websockets: the routes' business
            await self._routes(scope, receive, send)
            return
        await self._entry(
            scope, receive, Answer(DocsPage(send) if scope["path"] == DOCS_PATH else send)
        )

    async def _measured(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Serve under the request metrics and the trace context, but probes and scrapes."""
        answer = send if isinstance(send, Answer) else Answer(send)
        if unmeasured(scope["path"]):
            await self._serve(scope, receive, answer)
            return
        method, route = method_of(scope), self._template(scope["path"]) or self._route_of(scope)
        span = server_span.begin(
            scope, _trace_headers(scope), _SPAN_METHOD.get(method, method), route
        )
        in_progress = self._metrics.in_progress_of(method, route)
        in_progress.inc()
        started = perf_counter()
        error: BaseException | None = None
        try:
            await self._serve(scope, receive, answer)
        except BaseException as escaped:
            error = escaped
            raise
        finally:
            in_progress.dec()
            self._metrics.duration_of(method, route).observe(perf_counter() - started)
            self._metrics.requests_of(method, route, answer.status or 500).inc()
            span.end(answer.status, None if route == "unmatched" else route, error)

    def _route_of(self, scope: Scope) -> str:
        """The route template of the request's method and path, remembered: finding it asks
        every route in turn, and most requests are on a few paths (the placement's is one)."""
        key = (scope["method"], scope["path"])
        route = self._templates.get(key)
        if route is None:
            if len(self._templates) >= ROUTES_REMEMBERED:
                self._templates.clear()
            route = self._templates[key] = route_of(scope)
        return route

    async def _serve(self, scope: Scope, receive: Receive, answer: Answer) -> None:
        """The head's limit, then the gates and the routes; an error becomes the 500 problem."""
        if limits.header_bytes(scope["headers"]) > self._settings.max_header_bytes:
            await limits.headers_too_large(self._settings.max_header_bytes)(scope, receive, answer)
            return
        try:
            await self._gated(scope, receive, answer)
        except Exception as error:
            if answer.status is None:
                await self._error_answer(scope, error)(scope, receive, answer)
            raise

    def _error_answer(self, scope: Scope, error: Exception) -> ASGIApp:
        if self._on_error is None:
            return PlainTextResponse("Internal Server Error", status_code=500)

        async def answer(scope: Scope, receive: Receive, send: Send) -> None:
            assert self._on_error is not None
            response = await self._on_error(Request(scope), error)
            await response(scope, receive, send)

        return answer

    async def _body_stage(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Read the body whole, in time and within its size, then hand it to the routes."""
        if not _has_body(scope):
            await self._served(scope, receive, send)
            return
        settings = self._settings
        try:
            async with asyncio.timeout(settings.client_timeout_seconds):
                body = await self._read(scope, receive)
        except TimeoutError:
            await limits.too_slow(settings.client_timeout_seconds)(scope, receive, send)
            return
        if body is None:
            await limits.refuse_too_large(send, settings.max_body_bytes)
            return
        await self._served(scope, limits.replay(body, receive), send)

    async def _read(self, scope: Scope, receive: Receive) -> bytes | None:
        """The body, or None when it is (or declares to be) larger than allowed."""
        declared = _header(scope, b"content-length")
        if (
            declared is not None
            and declared.isdigit()
            and int(declared) > self._settings.max_body_bytes
        ):
            await limits.drain(receive)
            return None
        return await limits.read_within(receive, self._settings.max_body_bytes)


def _wrapped(app: ASGIApp, middleware: Sequence[Middleware]) -> ASGIApp:
    for cls, args, kwargs in reversed(middleware):
        app = cls(app, *args, **kwargs)
    return app


def _no_template(_path: str) -> None:
    return None


def _has_body(scope: Scope) -> bool:
    """HTTP/1.1 frames a body with ``Content-Length`` or ``Transfer-Encoding``: no body without."""
    return any(
        name == b"content-length" or name == b"transfer-encoding" for name, _ in scope["headers"]
    )


def _header(scope: Scope, name: bytes) -> bytes | None:
    return next((value for key, value in scope["headers"] if key == name), None)


def _trace_headers(scope: Scope) -> dict[str, str]:
    """The trace context the caller sent (``traceparent`` and its companions), if any."""
    found: dict[str, str] = {}
    for name, value in scope["headers"]:
        if name in server_span.TRACE_HEADERS:
            text = value.decode("latin-1")
            found[name.decode()] = (
                f"{found[name.decode()]},{text}" if name.decode() in found else text
            )
    return found
