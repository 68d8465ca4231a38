"""The gateway's one pooled HTTP client to the services, and what their silence becomes.

Each request goes to one live instance of the service, chosen by the balancer
over the registry (``--scale`` runs several); without a registry, to the URL the
settings give. An instance that refuses or breaks the connection is marked
failed, so the next requests go elsewhere until the registry forgets it.

Every request runs under the gateway's resilience policy for that service
(deadline, bulkhead, breaker; retries for reads only, on another instance).

A service that refuses the connection or breaks it becomes a 503 problem (with
``Retry-After``, as every 503 shoplab gives), one that does not answer in time a
504 problem. Neither answer names a host, a port or an exception: the log names
the service and the kind of failure. A service's own answer, a 503 included, passes
through with its headers.

The client is the gateway's own (``http1``: keep-alive HTTP/1.1 on an asyncio protocol and
httptools, ADR 0024), after httpx's and aiohttp's (ADR 0018): a forwarded exchange is the
gateway's main work, and a general client's layers were most of its cost. Its pool keeps
``POOL_SIZE`` connections at most and never reuses one idle for ``IDLE_SECONDS`` or more,
so no request is written on a connection a service is closing; a POST is never retried.
Nothing outside this module sees the client: an answer is an ``Answer``, read whole.
"""

import asyncio
from collections.abc import Callable, Mapping
from dataclasses import replace
from urllib.parse import urlsplit

import structlog
from fastapi import Request
from fastapi.responses import JSONResponse

from shoplab.gateway.http1 import Answer, NotSent
from shoplab.gateway.http1_pool import Pool
from shoplab.platform.discovery import Balancer, Instance, NoInstanceAvailable
from shoplab.platform.errors import Unavailable
from shoplab.platform.http.problems import problem
from shoplab.platform.http.server import KEEP_ALIVE_SECONDS
from shoplab.platform.resilience import (
    BulkheadConfig,
    DeadlineExceeded,
    ExchangeBroken,
    Resilience,
    ResilienceConfig,
    ResilienceError,
    ResilientCall,
    RetryConfig,
    deadline,
)
from shoplab.platform.telemetry.tracing import answered, http_client_span

log = structlog.get_logger(__name__)

POOL_SIZE = 200
"""Connections open at once, to all services together."""
IDLE_SECONDS = KEEP_ALIVE_SECONDS / 2
"""Idle connections are dropped well before the services close them (see ``serve``)."""
SAFE_METHODS = frozenset({"GET", "HEAD"})
"""Only these are retried (on another instance): a POST may have taken effect."""
FORWARD_POLICY = ResilienceConfig(
    timeout=10.0,
    retry=RetryConfig(max_retries=1),
    bulkhead=BulkheadConfig(limit=POOL_SIZE),
)
"""A forwarded request may take longer than a query between services (a placement
waits for its database's writer): 10 s, as the gateway's forward timeout. Its
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


Address = tuple[str, int, str]
"""Where a service's requests go: host, port and the base URL's path (usually empty)."""


def address_of(url: str) -> Address:
    parts = urlsplit(url)
    if parts.scheme != "http" or parts.hostname is None:
        raise ValueError(f"not a plain HTTP service URL: {url!r}")
    return parts.hostname, parts.port or 80, parts.path.rstrip("/")


class Upstreams:
    """Sends requests to services by name over one connection pool."""

    def __init__(
        self,
        service_urls: Mapping[str, str],
        *,
        timeout: float = FORWARD_POLICY.timeout,
        connect_timeout: float = 2.0,
        balancer: Callable[[], Balancer | None] = lambda: None,
        resilience: Resilience | None = None,
    ) -> None:
        """``timeout`` bounds a whole request, ``connect_timeout`` opening a connection."""
        self._base = {name: address_of(url) for name, url in service_urls.items()}
        self._timeout = timeout
        self._connect_timeout = connect_timeout
        self._pool: Pool | None = None
        self._balancer = balancer
        self._resilience = resilience
        self._policy_config = replace(FORWARD_POLICY, timeout=timeout)
        self._policies: dict[str, ResilientCall] = {}

    @property
    def services(self) -> frozenset[str]:
        return frozenset(self._base)

    def _client(self) -> Pool:
        """The pool, made on first use, in the loop that uses it."""
        if self._pool is None:
            self._pool = Pool(
                limit=POOL_SIZE, idle_seconds=IDLE_SECONDS, connect_timeout=self._connect_timeout
            )
        return self._pool

    async def request(
        self,
        service: str,
        method: str,
        target: str,
        *,
        headers: Mapping[str, str],
        content: bytes | None = None,
        resilient: bool = True,
    ) -> Answer:
        """``target`` is the path, already percent-encoded, with its query string if any.

        A caller that needs a shorter deadline wraps the call in ``asyncio.timeout``; the
        cancelled connection is closed, not returned to the pool. ``resilient=False``
        (the readiness probes) bypasses the policy, so that probing a service never
        counts against its breaker.
        """
        tried: list[str] = []

        async def attempt(_seconds: float | None) -> Answer:
            balancer = self._balancer()
            instance = await balancer.fail_over(service, tried) if balancer else None
            address = _address(instance) if instance else self._base[service]
            try:
                return await self._send(address, method, target, headers, content)
            except (NotSent, ExchangeBroken):
                if balancer and instance:
                    balancer.mark_failed(instance)
                raise

        try:
            if self._resilience is None or not resilient:
                async with asyncio.timeout(self._timeout):
                    return await attempt(None)
            policy = self._policies.get(service) or self._policy(self._resilience, service)
            return await policy.call(attempt, idempotent=method in SAFE_METHODS)
        except (TimeoutError, DeadlineExceeded) as error:  # a connect timeout is one too
            raise UpstreamTimeout(service) from error
        except (NotSent, ExchangeBroken, NoInstanceAvailable, ResilienceError) as error:
            raise UpstreamFailure(service) from error

    def _policy(self, resilience: Resilience, service: str) -> ResilientCall:
        """The service's policy, looked up once: the lookup checks its whole configuration."""
        policy = self._policies[service] = resilience.policy(f"{service}.http", self._policy_config)
        return policy

    async def _send(
        self,
        address: Address,
        method: str,
        target: str,
        headers: Mapping[str, str],
        content: bytes | None,
    ) -> Answer:
        """One exchange, inside its client span; the path goes out exactly as given."""
        host, port, prefix = address
        sent = {**headers, **deadline.to_header()}
        with http_client_span(method, f"http://{host}:{port}{prefix}{target}", sent) as span:
            answer = await self._client().send(host, port, method, prefix + target, sent, content)
            answered(span, answer.status_code)
        return answer

    async def close(self) -> None:
        if self._pool is not None:
            self._pool.close()
            self._pool = None


def _address(instance: Instance) -> Address:
    return instance.host, instance.ports["http"], ""


async def upstream_problem(_request: Request, error: Exception) -> JSONResponse:
    """The exception handler that turns an ``UpstreamFailure`` into its problem answer."""
    assert isinstance(error, UpstreamFailure)
    return upstream_answer(error)


def upstream_answer(error: UpstreamFailure) -> JSONResponse:
    """The problem answer to a service that did not answer, logged once."""
    cause = type(error.__cause__).__name__ if error.__cause__ else None
    log.warning("upstream failed", upstream=error.service, status=error.status, cause=cause)
    retry = {"Retry-After": str(Unavailable.retry_after_seconds)} if error.status == 503 else None
    return problem(error.status, error.detail, title=error.title, headers=retry)
