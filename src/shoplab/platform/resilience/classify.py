"""Which errors mean "the dependency is not available", and which of those are safe to retry.

The two questions have different answers, on purpose:

- **A failure** (counted by the circuit breaker) is any sign that the dependency
  did not answer: refused or reset connections, timeouts, gRPC ``UNAVAILABLE`` and
  ``DEADLINE_EXCEEDED``, HTTP 502/503/504, or an ``Unavailable`` raised by an
  adapter. Everything else is an answer, even an unwelcome one: a declined card,
  ``NOT_FOUND``, ``INVALID_ARGUMENT``, ``PERMISSION_DENIED`` or a domain error
  prove that the dependency is up, so they never trip the breaker.
- **Retryable** is narrower: only errors that say the request was not served,
  so another try (perhaps on another instance) can succeed. A timeout is a
  failure but not retryable: the dependency may still be working on the first
  try, and trying again multiplies the load on a service that is already slow.
  The exception is a timeout while *connecting* (nothing was sent).

HTTP errors are recognised from every client in use: httpx's (the runtime, the tests),
aiohttp's (the benchmarks) and the gateway's own, which raises ``ConnectionError`` for a
request that never left and ``ExchangeBroken`` for one that did. aiohttp's timeouts are
``TimeoutError`` already; an answer it could not parse is a ``ClientResponseError`` caused
by an ``HttpProcessingError``, a broken exchange rather than a status the service chose.

Only calls declared idempotent are retried at all (see ``policy``).
"""

from collections.abc import Callable

import aiohttp
import grpc
import grpc.aio
import httpx
from aiohttp.http_exceptions import HttpProcessingError

from shoplab.platform.errors import Unavailable
from shoplab.platform.resilience.errors import DeadlineExceeded, ExchangeBroken, ResilienceError

Classifier = Callable[[BaseException], bool]

_FAILURE_CODES = frozenset({grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.DEADLINE_EXCEEDED})
_RETRYABLE_CODES = frozenset({grpc.StatusCode.UNAVAILABLE})
_FAILURE_STATUSES = frozenset({502, 503, 504})
_BROKEN_EXCHANGE = (
    Unavailable,
    ConnectionError,
    ExchangeBroken,
    httpx.TransportError,
    aiohttp.ClientConnectionError,
    aiohttp.ClientPayloadError,
)
"""The dependency is down, or the exchange broke: refused, reset, cut short, timed out."""
_NOT_SENT = (
    Unavailable,
    ConnectionError,
    httpx.ConnectError,
    httpx.ConnectTimeout,
    aiohttp.ClientConnectorError,
    aiohttp.ConnectionTimeoutError,
)
"""The dependency is down, or no connection was made: nothing was served."""


def grpc_code(error: BaseException) -> grpc.StatusCode | None:
    """The status of a failed gRPC call (asyncio or threaded stubs), else None."""
    if isinstance(error, grpc.aio.AioRpcError):
        return error.code()
    if isinstance(error, grpc.RpcError) and isinstance(error, grpc.Call):
        return error.code()
    return None


def is_timeout(error: BaseException) -> bool:
    return (
        isinstance(error, TimeoutError | DeadlineExceeded | httpx.TimeoutException)
        or grpc_code(error) is grpc.StatusCode.DEADLINE_EXCEEDED
    )


def http_status(error: BaseException) -> int | None:
    """The status of an HTTP answer that an error reports (either client's), else None."""
    if isinstance(error, httpx.HTTPStatusError):
        return error.response.status_code
    if isinstance(error, aiohttp.ClientResponseError) and not _unparsable(error):
        return error.status
    return None


def _unparsable(error: BaseException) -> bool:
    return isinstance(error, aiohttp.ClientResponseError) and isinstance(
        error.__cause__, HttpProcessingError
    )


def is_availability_failure(error: BaseException) -> bool:
    """True when the dependency did not answer: the breaker counts it."""
    if isinstance(error, _BROKEN_EXCHANGE) or is_timeout(error) or _unparsable(error):
        return True
    status = http_status(error)
    if status is not None:
        return status in _FAILURE_STATUSES
    return grpc_code(error) in _FAILURE_CODES


def is_retryable(error: BaseException) -> bool:
    """True when the request was not served, so trying again may succeed."""
    if isinstance(error, ResilienceError):
        return False
    if isinstance(error, _NOT_SENT):
        return True
    status = http_status(error)
    if status is not None:
        return status == 503
    return grpc_code(error) in _RETRYABLE_CODES
