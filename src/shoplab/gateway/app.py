"""The gateway's wiring: settings in, one FastAPI app out.

Every public request (a path under ``/api/`` or ``/.well-known/``) is routed by the
routing table: a request it gives a service is forwarded there by the app's ``lane``,
before the router; the order details are composed here, and a path nobody serves is
answered 404 as the monolith answers a path it does not serve, by the router's
public routes.

The gateway's routes are plain Starlette routes: they take the request as it is, so
FastAPI's parameter parsing and validation, built for endpoints with a signature, would
only add to the time a request takes.
"""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

from fastapi import FastAPI, Request, Response
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse, JSONResponse
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.routing import Route

from shoplab.gateway import openapi, routes
from shoplab.gateway.edge_auth import EdgeAuthenticator
from shoplab.gateway.health import PROBE_TIMEOUT_SECONDS, service_checks
from shoplab.gateway.jwks import JwksCache
from shoplab.gateway.lane import DOCS_URL, OPENAPI_URL, PUBLIC_METHODS, PUBLIC_PATHS, PublicLane
from shoplab.gateway.order_details import PART_TIMEOUT_SECONDS, OrderDetailsComposer
from shoplab.gateway.proxy import Proxy
from shoplab.gateway.shedding import Shedding
from shoplab.gateway.upstreams import UpstreamFailure, Upstreams, upstream_problem
from shoplab.platform.auth import TokenVerifier
from shoplab.platform.discovery import (
    Balancer,
    Discovery,
    NoInstanceAvailable,
    Resolver,
    WithoutRegistry,
    discovery_from_settings,
)
from shoplab.platform.grpc.client import GrpcClient
from shoplab.platform.http.app import create_app
from shoplab.platform.http.edge_settings import EdgeSettings
from shoplab.platform.http.rate_limit import EdgePolicies, RateLimits
from shoplab.platform.internal_auth import ServiceCredentials, load_service_secret
from shoplab.platform.rate_limits import RateLimiter
from shoplab.platform.resilience import Resilience, ResilienceConfig
from shoplab.platform.settings import PlatformSettings

ISSUER = "gateway"
"""The issuer of the internal tokens the gateway mints."""


@dataclass(frozen=True)
class Timeouts:
    """How long the gateway waits for a service, by kind of call, in seconds."""

    forward: float = 10.0
    connect: float = 2.0
    part: float = PART_TIMEOUT_SECONDS
    probe: float = PROBE_TIMEOUT_SECONDS


class Gateway:
    """The edge of the microservices mode, wired from ``PlatformSettings``."""

    def __init__(
        self,
        settings: PlatformSettings,
        timeouts: Timeouts = Timeouts(),
        *,
        resolver: Resolver | None = None,
    ) -> None:
        """``resolver`` finds the services' instances; by default what ``SHOPLAB_DISCOVERY``
        names (the registry on the NATS broker, DNS, or the runtime's static list), else
        the fixed ``service_urls`` (HTTP only)."""
        missing = routes.SERVICES - settings.service_urls.keys()
        if missing:
            raise ValueError(f"service_urls lacks {', '.join(sorted(missing))}")
        self.settings = settings
        self.timeouts = timeouts
        self.credentials = ServiceCredentials(load_service_secret(settings.data_dir), ISSUER)
        self.resilience = Resilience(ISSUER)
        self._discovery: Discovery | None = None if resolver is None else WithoutRegistry(resolver)
        self._balancer: Balancer | None = None
        self.upstreams = Upstreams(
            settings.service_urls,
            timeout=timeouts.forward,
            connect_timeout=timeouts.connect,
            balancer=lambda: self._balancer,
            resilience=self.resilience,
        )
        self.keys = JwksCache(self._fetch_jwks)
        verifier = TokenVerifier(
            self.keys.current, issuer=settings.jwt_issuer, audience=settings.jwt_audience
        )
        self.auth = EdgeAuthenticator(verifier, self.keys, self.credentials)
        self.limiter = RateLimiter.from_url(settings.redis_url, settings.redis_prefix)
        self.proxy = Proxy(self.upstreams, self.auth)
        self.public_contract = openapi.PublicContract(self.upstreams, self.credentials)
        self.details = OrderDetailsComposer(
            self.upstreams,
            self._grpc_client(routes.PAYMENTS, timeouts.part),
            self._grpc_client(routes.NOTIFICATIONS, timeouts.part),
            part_timeout=timeouts.part,
        )

    def _grpc_client(self, service: str, timeout: float) -> GrpcClient:
        policy = self.resilience.policy(f"{service}.grpc", ResilienceConfig(timeout=timeout))
        return GrpcClient(service, self.balancer, self.credentials, policy)

    def balancer(self) -> Balancer:
        if self._balancer is None:
            raise NoInstanceAvailable("any")
        return self._balancer

    async def _discover(self) -> None:
        """Start following the services' instances (the registry, DNS, the runtime's list, or
        a given resolver); without a broker URL, the fixed ``service_urls`` serve instead."""
        if self._discovery is None and self.settings.broker_url:
            self._discovery = discovery_from_settings(self.settings, name=ISSUER)
        if self._discovery is not None:
            await self._discovery.start()
            self._balancer = Balancer(
                self._discovery, ejection_seconds=self.settings.discovery_ttl_seconds
            )

    async def contract(self, _request: Request) -> JSONResponse:
        """The public OpenAPI document, merged from the services' own."""
        return JSONResponse(await self.public_contract.document())

    async def docs(self, _request: Request) -> HTMLResponse:
        """The interactive API docs, over the merged document."""
        return get_swagger_ui_html(openapi_url=OPENAPI_URL, title="shoplab")

    async def _fetch_jwks(self) -> dict[str, Any]:
        """Identity's JWKS, asked for like any call: with an internal service token."""
        answer = await self.upstreams.request(
            routes.IDENTITY, "GET", "/.well-known/jwks.json", headers=self.credentials.headers()
        )
        if answer.status_code != 200:
            raise UpstreamFailure(routes.IDENTITY)
        document: dict[str, Any] = answer.json()
        return document

    async def handle(self, request: Request) -> Response:
        """Answer a public request the lane left to the router: a path the routing table
        gives no service (the lane forwards every other), or the composed order details."""
        match = routes.route(request.scope["path"], request.method)
        if match is None or match.target != routes.COMPOSED:
            raise HTTPException(status_code=404)
        if request.method != "GET":
            raise HTTPException(status_code=405, headers={"Allow": "GET"})
        caller = await self.auth.internal_headers(request.scope)
        return await self.details.compose(match.wildcards[0], caller)

    def routes(self) -> list[Route]:
        """The contract and its docs first: their paths are under ``/api/`` too."""
        return [
            Route(OPENAPI_URL, self.contract, methods=["GET"], include_in_schema=False),
            Route(DOCS_URL, self.docs, methods=["GET"], include_in_schema=False),
            *(
                Route(path, self.handle, methods=list(PUBLIC_METHODS), include_in_schema=False)
                for path in PUBLIC_PATHS
            ),
        ]

    def app(self) -> FastAPI:
        @asynccontextmanager
        async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
            await self._discover()
            try:
                yield
            finally:
                await self.details.close()
                if self._discovery is not None:
                    await self._discovery.stop()
                await self.upstreams.close()

        app = create_app(
            title="shoplab gateway",
            routers=[],
            readiness=service_checks(self.upstreams, self.timeouts.probe),
            edge=EdgeSettings.of(self.settings),
            lifespan=lifespan,
            own_openapi=False,
            lane=PublicLane(self.proxy),
            middleware=[
                Middleware(Shedding, hold_seconds=self.settings.gateway_shed_seconds),
                Middleware(
                    RateLimits,
                    limiter=self.limiter,
                    policies=EdgePolicies.from_settings(self.settings),
                    identify=self.auth.principal,
                ),
            ],
        )
        app.router.routes.extend(self.routes())
        app.add_exception_handler(UpstreamFailure, upstream_problem)
        return app
