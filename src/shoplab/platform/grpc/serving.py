"""What every gRPC method of a service goes through before its servicer runs.

- The caller's deadline becomes this call's deadline (``resilience.deadline``), so
  the calls the servicer makes in turn never outlive the one that asked for them.
- Injected faults (``shoplab fault``) apply: the latency, then the error rate as
  ``UNAVAILABLE``, the status a real outage would give.

Authentication runs before this (``auth.ServiceAuthInterceptor``), so a refused
caller costs no injected latency.
"""

from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any, TypeAlias

import grpc
import grpc.aio

from shoplab.platform.faults import FaultInjector, InjectedFault
from shoplab.platform.resilience import deadline

if TYPE_CHECKING:  # the stubs make it generic; the runtime class is not subscriptable
    Handler: TypeAlias = grpc.RpcMethodHandler[Any, Any]
else:
    Handler = grpc.RpcMethodHandler
Continuation = Callable[[grpc.HandlerCallDetails], Awaitable[Handler | None]]


class ServingInterceptor(grpc.aio.ServerInterceptor):
    def __init__(self, faults: FaultInjector) -> None:
        self._faults = faults

    async def intercept_service(
        self, continuation: Continuation, handler_call_details: grpc.HandlerCallDetails
    ) -> Handler | None:
        handler = await continuation(handler_call_details)
        if handler is None or handler.unary_unary is None:
            return handler
        servicer = handler.unary_unary

        async def serve(request: Any, context: Any) -> Any:
            try:
                await self._faults.apply()
            except InjectedFault as fault:
                await context.abort(grpc.StatusCode.UNAVAILABLE, str(fault))
            with deadline.inherit_grpc(context):
                return await servicer(request, context)

        return grpc.unary_unary_rpc_method_handler(
            serve,
            request_deserializer=handler.request_deserializer,
            response_serializer=handler.response_serializer,
        )
