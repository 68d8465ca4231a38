"""The direct routes' lane: a hot route's direct handler called before the router.

A ``DirectRoute`` answers its hot requests without FastAPI's dependency injection, but the
request still travels the router's layers to reach it: the exception middleware, the exit
stack, the route search through each included router, the request-response wrappers. In
the monolith, where a placement is one request, those layers cost about a tenth of its CPU
(docs/performance.md). ``DirectLane`` is a ``Lane`` (see ``lane``) that calls the direct
handler straight from the ``Edge``, and keeps what the layers did:

- it takes a request only when the route the router would choose is a direct route: the
  first route, in the router's order, whose path and method match (the router's own rule);
  a request on any other route, or when an included router it cannot see into comes first,
  goes to the router untouched;
- a handler that declines (``None``) hands the request to the router with its body, so that
  FastAPI answers it as before (every 401, 403 and 422 in FastAPI's shape);
- an exception goes to the app's exception handler for it, found as the exception
  middleware finds it (by class, then by status for an ``HTTPException``); one without a
  handler goes on to the ``Edge``, which answers 500.
"""

from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from typing import Any

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Match
from starlette.types import ASGIApp, Receive, Scope, Send

from shoplab.platform.http import limits
from shoplab.platform.http.direct import DECLINED, DirectRoute

ExceptionHandler = Callable[[Request, Exception], Response | Awaitable[Response]]


class DirectLane:
    def __init__(
        self, routes: Sequence[BaseRoute], handlers: Mapping[Any, ExceptionHandler]
    ) -> None:
        """``routes``: every route of the app, in the router's order; ``handlers``: the
        app's exception handlers, by exception class or status code."""
        self._routes = list(routes)
        self._direct = [r for r in self._routes if isinstance(r, DirectRoute) and r.direct]
        self._handlers: dict[Any, ExceptionHandler] = dict(handlers)

    def __bool__(self) -> bool:
        return bool(self._direct)

    def template(self, path: str) -> str | None:
        """The direct route's template when the first route of ``path`` is a direct one
        (whatever the method); else None, and the router is asked."""
        route = self._first(path, None)
        return route.path if route is not None else None

    def taken(self, scope: Scope) -> DirectRoute | None:
        """The direct route the router would choose for this request, if it is one: the
        first route whose path and method match."""
        return self._first(scope["path"], scope["method"])

    def _first(self, path: str, method: str | None) -> DirectRoute | None:
        """The first route matching ``path`` (and ``method``, if given), when it is direct."""
        if not any(route.path_regex.match(path) for route in self._direct):
            return None
        for route in self._routes:
            pattern = getattr(route, "path_regex", None)
            if pattern is None:  # an included router the lane cannot see into
                return None
            if not pattern.match(path):
                continue
            methods = getattr(route, "methods", None)
            if method is not None and methods is not None and method not in methods:
                continue
            return route if isinstance(route, DirectRoute) and route.direct else None
        return None

    def before(self, routes: ASGIApp) -> ASGIApp:
        async def served(scope: Scope, receive: Receive, send: Send) -> None:
            route = self.taken(scope)
            if route is None:
                await routes(scope, receive, send)
                return
            match, child = route.matches(scope)
            assert match is Match.FULL, "taken only when the path and the method match"
            scope.update(child)
            request = Request(scope, receive)
            direct = route.direct
            assert direct is not None, "taken only when it has a direct handler"
            try:
                answered = await direct(request)
                if answered is None:  # FastAPI's own handler answers
                    body = await request.body()
                    scope[DECLINED] = True
                    await routes(scope, limits.replay(body, receive), send)
                    return
                response = route.response_of(answered)
            except Exception as error:
                handler = self._handler_for(error)
                if handler is None:
                    raise
                response = await _called(handler, request, error)
            await response(scope, receive, send)

        return served

    def _handler_for(self, error: Exception) -> ExceptionHandler | None:
        if isinstance(error, HTTPException) and error.status_code in self._handlers:
            return self._handlers[error.status_code]
        handlers = self._handlers
        return next((handlers[kind] for kind in type(error).__mro__ if kind in handlers), None)


async def _called(handler: ExceptionHandler, request: Request, error: Exception) -> Response:
    answer = handler(request, error)
    return await answer if isinstance(answer, Awaitable) else answer


def routing_order(
    routes: Sequence[BaseRoute], included: Iterable[Sequence[BaseRoute] | None]
) -> list[BaseRoute]:
    """An app's routes in the order its router tries them: ``routes`` as the app lists them,
    each included router (which FastAPI lists as one entry) replaced by its own routes,
    ``included`` giving them in the order they were included. An entry ``included`` does not
    give (``None``: included under a prefix of its own) stays as it is: the lane stops there."""
    pending = iter(included)
    ordered: list[BaseRoute] = []
    for entry in routes:
        inside = None if hasattr(entry, "path_regex") else next(pending, None)
        ordered.extend([entry] if inside is None else inside)
    return ordered
