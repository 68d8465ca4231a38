"""Calling another service over gRPC, with this service's credentials and a deadline.

``open_channel`` gives an insecure ``grpc.aio`` channel (the processes talk over
loopback, or a private network on Kubernetes) whose every call carries a token minted
for that call and the trace context (``platform.grpc.tracing``), and is counted and timed
(``platform.grpc.metrics``): tokens live a minute, channels for the life of the process.

``GrpcClient`` is one remote service for the client adapters: it balances over the
service's live instances and runs every call under the caller's resilience policy.
"""

from collections.abc import Callable
from typing import TypeVar

import grpc
import grpc.aio
import structlog
from prometheus_client import REGISTRY, CollectorRegistry

from shoplab.platform.discovery import Balancer, NoInstanceAvailable
from shoplab.platform.errors import Unavailable
from shoplab.platform.grpc.auth import bearer_metadata
from shoplab.platform.grpc.metrics import ClientContinuation, ClientMetricsInterceptor, grpc_metrics
from shoplab.platform.grpc.server import LOOPBACK
from shoplab.platform.grpc.tracing import ClientTracing
from shoplab.platform.internal_auth import ServiceCredentials
from shoplab.platform.resilience import ResilientCall, is_availability_failure

log = structlog.get_logger(__name__)

Request = TypeVar("Request")
Response = TypeVar("Response")


class ServiceToken(grpc.aio.UnaryUnaryClientInterceptor):
    """Attaches ``authorization: Bearer <token>`` to every call, with a token minted for it.

    Unary calls only, as every method of the contracts is; a streaming method would
    need the interceptor of its kind too.
    """

    def __init__(self, credentials: ServiceCredentials) -> None:
        self._credentials = credentials

    async def intercept_unary_unary(
        self,
        continuation: ClientContinuation[Request, Response],
        client_call_details: grpc.aio.ClientCallDetails,
        request: Request,
    ) -> grpc.aio.UnaryUnaryCall[Request, Response]:
        metadata = grpc.aio.Metadata(*(client_call_details.metadata or ()))
        key, value = bearer_metadata(self._credentials.mint())
        metadata.set_all(key, [value])  # replaces any token the caller set
        details = grpc.aio.ClientCallDetails(
            client_call_details.method,
            client_call_details.timeout,
            metadata,
            client_call_details.credentials,
            client_call_details.wait_for_ready,
        )
        return await continuation(details, request)


def loopback(port: int) -> str:
    """The target of a service listening on this machine's loopback ``port``."""
    return f"{LOOPBACK}:{port}"


def open_channel(
    target: str,
    credentials: ServiceCredentials,
    *,
    metrics_registry: CollectorRegistry = REGISTRY,
) -> grpc.aio.Channel:
    """A channel to ``target`` (``host:port``) on which every call carries a fresh token.

    Open it inside the running event loop: a grpc.aio channel belongs to the loop it
    was created in. Its calls are traced, and counted on ``metrics_registry``.
    """
    interceptors = [
        ClientTracing(),
        ClientMetricsInterceptor(grpc_metrics(metrics_registry)),
        ServiceToken(credentials),
    ]
    return grpc.aio.insecure_channel(target, interceptors=interceptors)


RpcOf = Callable[[grpc.aio.Channel], grpc.aio.UnaryUnaryMultiCallable[Request, Response]]
"""Names the method to call on a channel: ``lambda channel: CatalogStub(channel).GetPrices``."""


class GrpcClient:
    """One remote service: any of its live instances, through the caller's resilience policy.

    Each attempt asks the balancer for an instance (another one than those already
    tried, when there is one: fail-over), calls it on a channel kept per address,
    and tells the balancer how it went, so a dead instance stops being chosen before
    the registry forgets it. The policy (``platform.resilience``) gives the call its
    deadline, bulkhead, retries and breaker; what still fails becomes ``Unavailable``,
    answered at the edge with a 503 problem.
    """

    def __init__(
        self,
        service: str,
        balancer: Callable[[], Balancer],
        credentials: ServiceCredentials,
        policy: ResilientCall,
    ) -> None:
        self.service = service
        self._balancer = balancer
        self._credentials = credentials
        self._policy = policy
        self._channels: dict[str, grpc.aio.Channel] = {}

    async def call(
        self, rpc_of: RpcOf[Request, Response], request: Request, *, idempotent: bool = True
    ) -> Response:
        """Call the method ``rpc_of`` names with ``request``; every query here is idempotent."""
        tried: list[str] = []

        async def attempt(seconds: float | None) -> Response:
            instance = await self._balancer().fail_over(self.service, tried)
            rpc = rpc_of(self._channel(instance.address("grpc")))
            try:
                answer = await rpc(request, timeout=seconds)  # travels as the gRPC deadline
            except grpc.aio.AioRpcError as error:
                if is_availability_failure(error):
                    self._balancer().mark_failed(instance)
                raise
            self._balancer().mark_succeeded(instance)
            return answer

        try:
            return await self._policy.call(attempt, idempotent=idempotent)
        except (grpc.aio.AioRpcError, NoInstanceAvailable) as error:
            log.warning("grpc call failed", service=self.service, error=type(error).__name__)
            raise Unavailable(f"The {self.service} service did not answer.") from error

    def _channel(self, address: str) -> grpc.aio.Channel:
        if address not in self._channels:
            self._channels[address] = open_channel(address, self._credentials)
        return self._channels[address]

    async def close(self) -> None:
        for channel in self._channels.values():
            await channel.close()
        self._channels.clear()
