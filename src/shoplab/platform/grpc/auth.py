"""Who may call a gRPC service: a valid service token, from a service on that service's allow-list.

The gRPC counterpart of ``platform.http.service_guard``, with one step more. Every
call carries ``authorization: Bearer <internal token>`` metadata (``client.ServiceToken``
adds it), and the server answers:

- UNAUTHENTICATED when the token is missing, does not verify, or its role is not
  ``service``: a customer's identity forwarded by the gateway proves no service;
- PERMISSION_DENIED when the token is a valid service token, but its subject (the
  calling service's name) is not on the called gRPC service's allow-list.

Every call is checked before any handler runs or any request is decoded, known
method or not, so an unauthenticated caller learns nothing, not even which methods
exist. The allow-lists give least privilege between processes that share one secret:
they stop a wiring mistake (the gateway asking inventory directly) from working by
accident. They do not stop a compromised service, which can mint any subject; that
would take a key per service or mutual TLS.
"""

# grpc.RpcMethodHandler is generic in the type stubs only: annotations stay unevaluated.
from __future__ import annotations

from collections.abc import Awaitable, Callable, Collection, Iterable, Mapping
from dataclasses import dataclass
from typing import Any, NoReturn, TypeVar

import grpc
import grpc.aio
import structlog

from shoplab.platform.auth import SERVICE, InvalidToken
from shoplab.platform.internal_auth import ServiceCredentials

log = structlog.get_logger(__name__)

Request = TypeVar("Request")
Response = TypeVar("Response")

Callers = Mapping[str, Collection[str]]
"""Full gRPC service name (``shoplab.catalog.v1.Catalog``) → the services that may call it."""

AUTHORIZATION = "authorization"


@dataclass(frozen=True)
class Refusal:
    code: grpc.StatusCode
    details: str


UNAUTHENTICATED = Refusal(grpc.StatusCode.UNAUTHENTICATED, "A valid service token is required.")


class ServiceAuthInterceptor(grpc.aio.ServerInterceptor):
    def __init__(self, credentials: ServiceCredentials, callers: Callers) -> None:
        self._credentials = credentials
        self._callers = {service: frozenset(names) for service, names in callers.items()}

    async def intercept_service(
        self,
        continuation: Callable[
            [grpc.HandlerCallDetails], Awaitable[grpc.RpcMethodHandler[Request, Response] | None]
        ],
        handler_call_details: grpc.HandlerCallDetails,
    ) -> grpc.RpcMethodHandler[Request, Response] | None:
        method = handler_call_details.method
        refusal = self.check(method, handler_call_details.invocation_metadata)
        handler = await continuation(handler_call_details)
        if refusal is None:
            return handler
        log.warning("grpc call refused", method=method, code=refusal.code.name)
        return _refusing(refusal, handler)

    def check(self, method: str, metadata: Iterable[tuple[str, str | bytes]]) -> Refusal | None:
        """Why a call of ``method`` (``/package.Service/Method``) is refused, or None."""
        token = _bearer(metadata)
        if token is None:
            return UNAUTHENTICATED
        try:
            caller = self._credentials.verify(token)
        except InvalidToken:
            return UNAUTHENTICATED
        if caller.role != SERVICE:
            return UNAUTHENTICATED
        service = method.removeprefix("/").partition("/")[0]
        if caller.customer_id not in self._callers.get(service, frozenset()):
            return Refusal(
                grpc.StatusCode.PERMISSION_DENIED,
                f"{service} does not serve the {caller.customer_id!r} service.",
            )
        return None


def bearer_metadata(token: str) -> tuple[str, str]:
    return (AUTHORIZATION, f"Bearer {token}")


def _bearer(metadata: Iterable[tuple[str, str | bytes]]) -> str | None:
    for key, value in metadata:
        if key == AUTHORIZATION and isinstance(value, str):
            scheme, _, token = value.partition(" ")
            return token.strip() if scheme.lower() == "bearer" and token.strip() else None
    return None


_HANDLER_KINDS = {
    (False, False): grpc.unary_unary_rpc_method_handler,
    (False, True): grpc.unary_stream_rpc_method_handler,
    (True, False): grpc.stream_unary_rpc_method_handler,
    (True, True): grpc.stream_stream_rpc_method_handler,
}


def _refusing(
    refusal: Refusal, handler: grpc.RpcMethodHandler[Any, Any] | None
) -> grpc.RpcMethodHandler[Request, Response]:
    """A handler of the same kind as ``handler`` that aborts at once.

    It has no deserializer: the caller's bytes are never decoded.
    """

    async def abort(_request: object, context: grpc.aio.ServicerContext[Any, Any]) -> NoReturn:
        await context.abort(refusal.code, refusal.details)

    kind = (handler.request_streaming, handler.response_streaming) if handler else (False, False)
    return _HANDLER_KINDS[kind](abort)
