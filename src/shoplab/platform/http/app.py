"""The app factory every process uses: problem details, limits, security headers, CORS,
request metrics, health probes."""

import asyncio
from collections.abc import Awaitable, Callable, Mapping, Sequence
from contextlib import AbstractAsyncContextManager
from typing import Any

from fastapi import APIRouter, FastAPI
from fastapi.responses import JSONResponse, Response
from fastapi.telemetry import TelemetryConfig
from prometheus_client import REGISTRY, CollectorRegistry
from starlette.middleware import Middleware

from shoplab.platform.http.cors import cors_middleware
from shoplab.platform.http.docs_csp import DOCS_PATH
from shoplab.platform.http.edge_app import EdgeApp
from shoplab.platform.http.edge_settings import EdgeSettings
from shoplab.platform.http.lane import Lane
from shoplab.platform.http.openapi import install_public_openapi
from shoplab.platform.http.problems import install_problem_handlers
from shoplab.platform.resilience.metrics import CONTENT_TYPE, exposition

ReadinessCheck = Callable[[], Awaitable[bool]]


TELEMETRY: TelemetryConfig = {"tracing": False, "metrics": False, "logs": False}
"""FastAPI's own OpenTelemetry is off: the ``Edge`` makes the SERVER span, only when the
trace is sampled (FastAPI makes one per request, sampled or not); metrics are
prometheus-client's and problems are logged by the app."""


def create_app(
    *,
    title: str,
    routers: list[APIRouter],
    readiness: Mapping[str, ReadinessCheck],
    lifespan: Callable[[FastAPI], AbstractAsyncContextManager[None]] | None = None,
    own_openapi: bool = True,
    state: Callable[[], Mapping[str, Any]] | None = None,
    middleware: Sequence[Middleware] = (),
    metrics_registry: CollectorRegistry = REGISTRY,
    edge: EdgeSettings = EdgeSettings(),
    lane: Lane | None = None,
) -> FastAPI:
    """``own_openapi=False``: the app serves no OpenAPI of its own routes (the gateway
    serves the services' contract instead). ``state`` adds what the readiness answer
    should also tell (the faults injected in this process, for ``shoplab status``).

    ``middleware`` are the app's gates, the last outermost: they run inside the ``Edge``
    (security headers, request metrics, server span, header size limit, the 500 answer)
    and before it reads the body, so that what they answer themselves (a 401, an injected
    fault, a 429) is secured, counted and traced too. ``metrics_registry`` holds the
    request metrics and is what ``/metrics`` exposes.

    ``edge`` says what clients may send (body and header sizes, how slowly) and which browser
    origins may call; ``serve`` reads it back from the app for the connection level.
    CORS, when origins are configured, answers preflights inside the security headers.

    ``lane`` takes the requests it serves before the router does (see ``lane``).
    """
    app = EdgeApp(
        edge=edge,
        metrics_registry=metrics_registry,
        cors=cors_middleware(edge.cors_origins),
        lane=lane,
        title=title,
        lifespan=lifespan,
        openapi_url="/api/openapi.json" if own_openapi else None,
        docs_url=DOCS_PATH if own_openapi else None,
        redoc_url=None,
        telemetry=TELEMETRY,
    )
    app.state.edge_settings = edge
    install_problem_handlers(app)
    for each in middleware:
        app.add_middleware(each.cls, *each.args, **each.kwargs)
    app.include_router(health_router(readiness, state, metrics_registry))
    for router in routers:
        app.include_router(router)
    install_public_openapi(app)
    return app


def health_router(
    readiness: Mapping[str, ReadinessCheck],
    state: Callable[[], Mapping[str, Any]] | None = None,
    metrics_registry: CollectorRegistry = REGISTRY,
) -> APIRouter:
    router = APIRouter(tags=["health"])

    @router.get("/metrics", include_in_schema=False)
    async def metrics() -> Response:
        """This process's metrics in the Prometheus text format (requests, RPCs, breakers...)."""
        return Response(exposition(metrics_registry), media_type=CONTENT_TYPE)

    @router.get("/health/live")
    async def live() -> dict[str, str]:
        """The process is up and its event loop answers."""
        return {"status": "live"}

    @router.get("/health/ready")
    async def ready() -> JSONResponse:
        """Every dependency this process needs answers; 503 names those that do not.

        The checks run concurrently, so the probe takes as long as the slowest one.
        """
        results = await asyncio.gather(*(check() for check in readiness.values()))
        checks = dict(zip(readiness, results, strict=True))
        ok = all(checks.values())
        body: dict[str, Any] = {"status": "ready" if ok else "unready", "checks": checks}
        if state is not None:
            body.update(state())
        return JSONResponse(body, status_code=200 if ok else 503)

    return router
