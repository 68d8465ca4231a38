"""Every gRPC call as Prometheus series, on the server that handles it and the client that makes it.

- ``shoplab_grpc_server_handled_total{grpc_service,grpc_method,grpc_code}`` and the
  ``shoplab_grpc_server_handling_seconds{grpc_service,grpc_method}`` histogram;
- ``shoplab_grpc_client_handled_total`` and ``shoplab_grpc_client_handling_seconds``, the
  same from the caller's side: one series per attempt, so a retried call counts each try.

The names and labels are go-grpc-prometheus's, which dashboards know. The interceptors are
written here because no maintained library instruments ``grpc.aio``: py-grpc-prometheus
serves the synchronous server only and is no longer maintained. They count unary-unary
calls, the only kind the contracts have; a streaming method would pass uncounted.
"""

import asyncio
from collections.abc import Awaitable, Callable, Collection
from functools import cache
from time import perf_counter
from typing import TYPE_CHECKING, Any, TypeAlias, TypeVar

import grpc
import grpc.aio
from prometheus_client import REGISTRY, CollectorRegistry, Counter, Histogram

if TYPE_CHECKING:  # the stubs make it generic; the runtime class is not subscriptable
    Handler: TypeAlias = grpc.RpcMethodHandler[Any, Any]
else:
    Handler = grpc.RpcMethodHandler
Continuation = Callable[[grpc.HandlerCallDetails], Awaitable[Handler | None]]
Request = TypeVar("Request")
Response = TypeVar("Response")
ClientContinuation = Callable[
    [grpc.aio.ClientCallDetails, Request], Awaitable[grpc.aio.UnaryUnaryCall[Request, Response]]
]
"""What a client interceptor calls to go on with the call (every interceptor's signature)."""

UNKNOWN = "unknown"
"""Service and method of a call to a method the server does not serve."""
BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
_METHOD = ("grpc_service", "grpc_method")


class GrpcMetrics:
    """The metric families, registered once per registry (see ``grpc_metrics``)."""

    def __init__(self, registry: CollectorRegistry) -> None:
        def handled(side: str) -> Counter:
            return Counter(
                f"shoplab_grpc_{side}_handled",
                f"RPCs completed on the {side}, by the status code they ended with.",
                (*_METHOD, "grpc_code"),
                registry=registry,
            )

        def seconds(side: str) -> Histogram:
            return Histogram(
                f"shoplab_grpc_{side}_handling_seconds",
                f"Time from the start of an RPC to its status, on the {side}.",
                _METHOD,
                buckets=BUCKETS,
                registry=registry,
            )

        self.server_handled, self.server_seconds = handled("server"), seconds("server")
        self.client_handled, self.client_seconds = handled("client"), seconds("client")

    def serving(self, service: str, method: str) -> None:
        """Create a served method's series at zero, one per status code."""
        self.server_seconds.labels(service, method)
        for code in grpc.StatusCode:
            self.server_handled.labels(service, method, code.name)

    def served(self, service: str, method: str, code: grpc.StatusCode, seconds: float) -> None:
        self.server_handled.labels(service, method, code.name).inc()
        self.server_seconds.labels(service, method).observe(seconds)

    def called(self, service: str, method: str, code: grpc.StatusCode, seconds: float) -> None:
        self.client_handled.labels(service, method, code.name).inc()
        self.client_seconds.labels(service, method).observe(seconds)


def grpc_metrics(registry: CollectorRegistry = REGISTRY) -> GrpcMetrics:
    """The families on ``registry``, created on first use: every server and channel shares them."""
    return _families(registry)


@cache
def _families(registry: CollectorRegistry) -> GrpcMetrics:
    return GrpcMetrics(registry)


class ServerMetricsInterceptor(grpc.aio.ServerInterceptor):
    """Counts and times every call with the status it ended with, whatever ended it.

    A servicer's return gives OK (or the code it set), an abort gives the code aborted
    with, any other exception UNKNOWN, as the server answers it; a call cut short gives
    DEADLINE_EXCEEDED or CANCELLED. Placed before authentication, it counts refused calls
    too. A refused call of a method the server does not serve counts as ``unknown``: the
    caller chooses that name, and must not choose how many series there are. An accepted
    one has no handler to observe: grpc answers it UNIMPLEMENTED, uncounted.
    """

    def __init__(self, served: Collection[str], metrics: GrpcMetrics) -> None:
        self._served = frozenset(served)
        self._metrics = metrics
        for method in self._served:
            metrics.serving(*_service_and_method(method))

    async def intercept_service(
        self, continuation: Continuation, handler_call_details: grpc.HandlerCallDetails
    ) -> Handler | None:
        handler = await continuation(handler_call_details)
        if handler is None or handler.unary_unary is None:
            return handler
        method = handler_call_details.method
        labels = _service_and_method(method) if method in self._served else (UNKNOWN, UNKNOWN)
        servicer, metrics = handler.unary_unary, self._metrics

        async def observed(request: Any, context: Any) -> Any:
            started, code = perf_counter(), grpc.StatusCode.UNKNOWN
            try:
                response = await servicer(request, context)
                code = context.code() or grpc.StatusCode.OK
                return response
            except grpc.aio.AbortError:
                code = context.code() or grpc.StatusCode.UNKNOWN
                raise
            except asyncio.CancelledError:
                code = _cut_short(context)
                raise
            finally:
                metrics.served(*labels, code, perf_counter() - started)

        return grpc.unary_unary_rpc_method_handler(
            observed,
            request_deserializer=handler.request_deserializer,
            response_serializer=handler.response_serializer,
        )


class ClientMetricsInterceptor(grpc.aio.UnaryUnaryClientInterceptor):
    """Counts and times every call this channel makes, with the status it got back."""

    def __init__(self, metrics: GrpcMetrics) -> None:
        self._metrics = metrics

    async def intercept_unary_unary(
        self,
        continuation: ClientContinuation[Request, Response],
        client_call_details: grpc.aio.ClientCallDetails,
        request: Request,
    ) -> grpc.aio.UnaryUnaryCall[Request, Response]:
        method: str | bytes = client_call_details.method  # grpc.aio passes bytes
        labels = _service_and_method(method.decode() if isinstance(method, bytes) else method)
        started = perf_counter()
        call = await continuation(client_call_details, request)
        try:
            code = await call.code()  # waits for the end of the call, failed or not
        except asyncio.CancelledError:
            call.cancel()
            self._metrics.called(*labels, grpc.StatusCode.CANCELLED, perf_counter() - started)
            raise
        self._metrics.called(*labels, code, perf_counter() - started)
        return call


def _service_and_method(full_method: str) -> tuple[str, str]:
    """``/shoplab.catalog.v1.Catalog/GetPrices`` → ``shoplab.catalog.v1.Catalog``, ``GetPrices``."""
    service, _, method = full_method.removeprefix("/").partition("/")
    return service, method


def _cut_short(context: grpc.aio.ServicerContext[Any, Any]) -> grpc.StatusCode:
    remaining = context.time_remaining()  # None when the caller set no deadline
    if remaining is not None and remaining <= 0:
        return grpc.StatusCode.DEADLINE_EXCEEDED
    return grpc.StatusCode.CANCELLED
