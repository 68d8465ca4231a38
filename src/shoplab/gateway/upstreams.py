"""The gateway's one pooled HTTP client to the services, and what their silence becomes.

A service that refuses the connection or breaks it becomes a 503 problem, one
that does not answer in time a 504 problem. Neither answer names a host, a port
or an exception: the log names the service and the kind of failure.
"""

from collections.abc import Mapping

import httpx
import structlog
from fastapi import Request
from fastapi.responses import JSONResponse

from shoplab.platform.http.problems import problem

log = structlog.get_logger(__name__)

POOL_LIMITS = httpx.Limits(max_connections=200, max_keepalive_connections=50)


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

    def __init__(self, service_urls: Mapping[str, str], *, timeout: httpx.Timeout) -> None:
        self._base = {name: url.rstrip("/") for name, url in service_urls.items()}
        self._client = httpx.AsyncClient(timeout=timeout, limits=POOL_LIMITS)

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
    ) -> httpx.Response:
        """``target`` is the path, already percent-encoded, with its query string if any.

        A caller that needs a shorter deadline than the client's wraps the call in
        ``asyncio.timeout``; the cancelled connection is dropped from the pool.
        """
        try:
            return await self._client.request(
                method,
                self._base[service] + target,
                headers=headers,
                params=params,
                content=content,
            )
        except httpx.TimeoutException as error:
            raise UpstreamTimeout(service) from error
        except httpx.TransportError as error:
            raise UpstreamFailure(service) from error

    async def close(self) -> None:
        await self._client.aclose()


async def upstream_problem(_request: Request, error: Exception) -> JSONResponse:
    """The exception handler that turns an ``UpstreamFailure`` into its problem answer."""
    assert isinstance(error, UpstreamFailure)
    cause = type(error.__cause__).__name__ if error.__cause__ else None
    log.warning("upstream failed", upstream=error.service, status=error.status, cause=cause)
    return problem(error.status, error.detail, title=error.title)
