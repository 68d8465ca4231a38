"""A FastAPI app whose whole middleware stack is the ``Edge``: one layer, not eight.

FastAPI builds a stack of its own (error middleware, telemetry, a body limit, the app's
middleware, exception handling) and Starlette puts the error middleware outside every
middleware added, past them all. Here the ``Edge`` takes the place of all of them but the
exception handlers: it is outermost, so that no answer escapes its security headers, and
answers an unexpected error itself. Middleware added to the app (``add_middleware``)
runs inside it as its gates. CORS, when origins are configured, runs in it too.
"""

from collections.abc import Sequence
from typing import Any, cast

from fastapi import FastAPI
from fastapi.middleware.asyncexitstack import AsyncExitStackMiddleware
from prometheus_client import CollectorRegistry
from starlette.middleware import Middleware
from starlette.middleware.exceptions import ExceptionMiddleware
from starlette.routing import BaseRoute
from starlette.types import ASGIApp

from shoplab.platform.http.direct_lane import DirectLane, routing_order
from shoplab.platform.http.edge import Edge, ErrorHandler
from shoplab.platform.http.edge_settings import EdgeSettings
from shoplab.platform.http.lane import Lane
from shoplab.platform.http.metrics import http_metrics


class EdgeApp(FastAPI):
    def __init__(
        self,
        *,
        edge: EdgeSettings,
        metrics_registry: CollectorRegistry,
        cors: Sequence[Middleware] = (),
        lane: Lane | None = None,
        **options: Any,
    ) -> None:
        """``cors``: the CORS middleware, if any; ``lane``: what takes requests before the
        router, if anything (see ``Edge``); ``options`` are FastAPI's."""
        super().__init__(**options)
        self.lane = lane
        self.included: list[Sequence[BaseRoute] | None] = []
        """The routes of each router included, in order (None for one included under a
        prefix: its routes' paths lack it): the ``DirectLane`` reads them."""
        self.edge_settings = edge
        self.metrics_registry = metrics_registry
        self.cors_middleware = list(cors)

    def include_router(self, router: Any, *args: Any, **kwargs: Any) -> None:
        super().include_router(router, *args, **kwargs)
        self.included.append(None if args or kwargs.get("prefix") else router.routes)

    def build_middleware_stack(self) -> ASGIApp:
        handlers = {
            key: value
            for key, value in self.exception_handlers.items()
            if key not in (500, Exception)
        }
        on_error = self.exception_handlers.get(Exception) or self.exception_handlers.get(500)
        routes = ExceptionMiddleware(AsyncExitStackMiddleware(self.router), handlers=handlers)
        lane = self.lane
        if lane is None:
            direct = DirectLane(routing_order(self.routes, self.included), handlers)
            lane = direct if direct else None
        return Edge(
            routes,
            gates=self.user_middleware,
            cors=self.cors_middleware,
            settings=self.edge_settings,
            metrics=http_metrics(self.metrics_registry),
            on_error=cast(ErrorHandler | None, on_error),
            lane=lane,
        )
