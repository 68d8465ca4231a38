"""Which errors are failures of the dependency, and which of those are worth another try."""

import aiohttp
import grpc
import httpx
import pytest
from aiohttp.client_reqrep import ConnectionKey
from aiohttp.http_exceptions import BadStatusLine
from multidict import CIMultiDict, CIMultiDictProxy
from yarl import URL

from shoplab.platform.errors import Conflict, InvalidInput, NotFound, Unavailable
from shoplab.platform.resilience import (
    CircuitOpen,
    DeadlineExceeded,
    is_availability_failure,
    is_retryable,
)

from .test_resilience_fakes import rpc_error


def _name(error: BaseException) -> str:
    if isinstance(error, grpc.aio.AioRpcError):
        return error.code().name
    if isinstance(error, httpx.HTTPStatusError):
        return f"HTTP {error.response.status_code}"
    if isinstance(error, aiohttp.ClientResponseError):
        return f"aiohttp {error.status}{' unparsable' if error.__cause__ else ''}"
    return f"{type(error).__module__.split('.')[0]}.{type(error).__name__}"


def http_status(status: int) -> httpx.HTTPStatusError:
    request = httpx.Request("GET", "http://catalog/products")
    response = httpx.Response(status, request=request)
    return httpx.HTTPStatusError(str(status), request=request, response=response)


KEY = ConnectionKey("orders", 8000, False, True, None, None, None, None)
SENT = aiohttp.RequestInfo(URL("http://orders:8000/api"), "GET", CIMultiDictProxy(CIMultiDict()))


def refused() -> aiohttp.ClientConnectorError:
    """What aiohttp raises when nothing listens at the address."""
    return aiohttp.ClientConnectorError(KEY, ConnectionRefusedError(111, "Connection refused"))


def aiohttp_status(status: int) -> aiohttp.ClientResponseError:
    """What aiohttp's ``raise_for_status`` raises for ``status``."""
    return aiohttp.ClientResponseError(SENT, (), status=status)


def unparsable_answer() -> aiohttp.ClientResponseError:
    """What aiohttp raises for an answer that is not HTTP (its status is the parser's 400)."""
    error = aiohttp.ClientResponseError(SENT, (), status=400, message="Bad status line")
    error.__cause__ = BadStatusLine("SSH-2.0")
    return error


@pytest.mark.parametrize(
    ("error", "failure", "retryable"),
    [
        (rpc_error(grpc.StatusCode.UNAVAILABLE), True, True),
        (rpc_error(grpc.StatusCode.DEADLINE_EXCEEDED), True, False),
        (rpc_error(grpc.StatusCode.INVALID_ARGUMENT), False, False),
        (rpc_error(grpc.StatusCode.NOT_FOUND), False, False),
        (rpc_error(grpc.StatusCode.PERMISSION_DENIED), False, False),
        (rpc_error(grpc.StatusCode.FAILED_PRECONDITION), False, False),
        (ConnectionRefusedError(), True, True),
        (ConnectionResetError(), True, True),
        (httpx.ConnectError("refused"), True, True),
        (httpx.ConnectTimeout("slow to connect"), True, True),
        (httpx.ReadTimeout("slow to answer"), True, False),
        (httpx.RemoteProtocolError("server disconnected"), True, False),
        (refused(), True, True),
        (aiohttp.ConnectionTimeoutError("slow to connect"), True, True),
        (aiohttp.SocketTimeoutError("slow to answer"), True, False),
        (aiohttp.ServerDisconnectedError(), True, False),
        (aiohttp.ClientConnectionResetError("reset"), True, True),
        (aiohttp.ClientPayloadError("answer cut short"), True, False),
        (unparsable_answer(), True, False),
        (aiohttp_status(503), True, True),
        (aiohttp_status(502), True, False),
        (aiohttp_status(404), False, False),
        (http_status(503), True, True),
        (http_status(504), True, False),
        (http_status(404), False, False),
        (TimeoutError(), True, False),
        (Unavailable("payments is down"), True, True),
        (DeadlineExceeded("catalog", called=True), True, False),
        (CircuitOpen("catalog"), True, False),
        (NotFound("no such product"), False, False),
        (Conflict("card declined"), False, False),
        (InvalidInput("quantity must be positive"), False, False),
        (ValueError("a bug"), False, False),
    ],
    ids=lambda value: _name(value) if isinstance(value, BaseException) else "",
)
def test_classification(error: BaseException, failure: bool, retryable: bool) -> None:
    assert is_availability_failure(error) is failure
    assert is_retryable(error) is retryable
