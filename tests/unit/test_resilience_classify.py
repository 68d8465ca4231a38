"""Which errors are failures of the dependency, and which of those are worth another try."""

import grpc
import httpx
import pytest

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
    return type(error).__name__


def http_status(status: int) -> httpx.HTTPStatusError:
    request = httpx.Request("GET", "http://catalog/products")
    response = httpx.Response(status, request=request)
    return httpx.HTTPStatusError(str(status), request=request, response=response)


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
