"""The gateway's one pooled HTTP client to the services, and what their silence becomes.

Each request goes to one live instance of the service, chosen by the balancer
over the registry (``--scale`` runs several); without a registry, to the URL the
settings give. An instance that refuses or breaks the connection is marked
failed, so the next requests go elsewhere until the registry forgets it.

Every request runs under the gateway's resilience policy for that service
(deadline, bulkhead, breaker; retries for reads only, on another instance).

A service that refuses the connection or breaks it becomes a 503 problem, one
that does not answer in time a 504 problem. Neither answer names a host, a port
or an exception: the log names the service and the kind of failure.
"""

from collections.abc import Callable, Mapping
from dataclasses import replace

import httpx
import structlog
from fastapi import Request
from fastapi.responses import JSONResponse

from shoplab.platform.discovery import Balancer, NoInstanceAvailable
from shoplab.platform.http.problems import problem
from shoplab.platform.resilience import (
    BulkheadConfig,
    DeadlineExceeded,
    Resilience,
    ResilienceConfig,
    ResilienceError,
    RetryConfig,
    deadline,
)
from shoplab.platform.serve import KEEP_ALIVE_SECONDS

log = structlog.get_logger(__name__)

POOL_LIMITS = httpx.Limits(
    max_connections=200, max_keepalive_connections=50, keepalive_expiry=KEEP_ALIVE_SECONDS / 2
)
"""Idle connections are dropped well before the services close them (see ``serve``)."""
USE_CLIENT_DEFAULT = httpx.USE_CLIENT_DEFAULT
SAFE_METHODS = frozenset({"GET", "HEAD"})
"""Only these are retried (on another instance): a POST may have taken effect."""
FORWARD_POLICY = ResilienceConfig(
    timeout=10.0,
    retry=RetryConfig(max_retries=1),
    bulkhead=BulkheadConfig(limit=POOL_LIMITS.max_connections or 200),
)
"""A forwarded request may take longer than a query between services (a placement
waits for its database's writer): 10 s, as the gateway's own client timeout. Its
bulkhead is the connection pool's size: the public traffic of one service."""


class UpstreamFailure(Exception):
    """A service did not answer; the public answer is a generic 503."""

    status = 503
    title = "Service unavailable"
    detail = "A service needed for this request is unavailable. Try again shortly."

    def __init__(self, service: str) -> None:
        super().__init__(service)
        self.service = service


class UpstreamTimeout(UpstreamFailure):
    status = 504
    title = "Gateway timeout"
    detail = "A service needed for this request did not answer in time. Try again shortly."


class Upstreams:
    """Sends requests to services by name over one connection pool."""

    def __init__(
        self,
        service_urls: Mapping[str, str],
        *,
        timeout: httpx.Timeout,
        balancer: Callable[[], Balancer | None] = lambda: None,
        resilience: Resilience | None = None,
    ) -> None:
        self._base = {name: url.rstrip("/") for name, url in service_urls.items()}
        self._client = httpx.AsyncClient(timeout=timeout, limits=POOL_LIMITS)
        self._balancer = balancer
        self._resilience = resilience
        forward = timeout.read or FORWARD_POLICY.timeout
        self._policy_config = replace(FORWARD_POLICY, timeout=forward)

    @property
    def services(self) -> frozenset[str]:
        return frozenset(self._base)

    async def request(
        self,
        service: str,
        method: str,
        target: str,
        *,
        headers: Mapping[str, str],
        params: Mapping[str, str] | None = None,
        content: bytes | None = None,
        resilient: bool = True,
    ) -> httpx.Response:
        """``target`` is the path, already percent-encoded, with its query string if any.

        A caller that needs a shorter deadline than the client's wraps the call in
        ``asyncio.timeout``; the cancelled connection is dropped from the pool.
        ``resilient=False`` (the readiness probes) bypasses the policy, so that probing
        a service never counts against its breaker.
        """
        tried: list[str] = []

        async def attempt(seconds: float | None) -> httpx.Response:
            balancer = self._balancer()
            instance = await balancer.fail_over(service, tried) if balancer else None
            base = instance.url("http") if instance else self._base[service]
            try:
                answer = await self._client.request(
                    method,
                    base + target,
                    headers={**headers, **deadline.to_header()},
                    params=params,
                    content=content,
                    timeout=seconds if seconds is not None else USE_CLIENT_DEFAULT,
                )
            except httpx.TransportError:
                if balancer and instance:
                    balancer.mark_failed(instance)
                raise
            return answer

        try:
            if self._resilience is None or not resilient:
                return await attempt(None)
            policy = self._resilience.policy(f"{service}.http", self._policy_config)
            return await policy.call(attempt, idempotent=method in SAFE_METHODS)
        except (httpx.TimeoutException, DeadlineExceeded) as error:
            raise UpstreamTimeout(service) from error
        except (httpx.TransportError, NoInstanceAvailable, ResilienceError) as error:
            raise UpstreamFailure(service) from error

    async def close(self) -> None:
        await self._client.aclose()


async def upstream_problem(_request: Request, error: Exception) -> JSONResponse:
    """The exception handler that turns an ``UpstreamFailure`` into its problem answer."""
    assert isinstance(error, UpstreamFailure)
    cause = type(error.__cause__).__name__ if error.__cause__ else None
    log.warning("upstream failed", upstream=error.service, status=error.status, cause=cause)
    return problem(error.status, error.detail, title=error.title)
