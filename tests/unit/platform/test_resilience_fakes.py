"""Shared fakes for the resilience tests (no tests here; the name keeps it beside them)."""

import grpc
import grpc.aio
from prometheus_client import CollectorRegistry

from shoplab.platform.resilience import ManualClock, ResilienceConfig, ResilienceMetrics
from shoplab.platform.resilience.policy import ResilientCall


def rpc_error(code: grpc.StatusCode) -> grpc.aio.AioRpcError:
    """What a gRPC asyncio stub raises when a call ends with ``code``."""
    return grpc.aio.AioRpcError(code, grpc.aio.Metadata(), grpc.aio.Metadata(), details=code.name)


class ScriptedDependency:
    """A dependency that answers each call with the next scripted outcome (the last repeats).

    An outcome that is an exception is raised; anything else is returned. It
    records each call's timeout, so a test can tell whether and how it was called.
    """

    def __init__(self, *script: object) -> None:
        self.script = script or ("ok",)
        self.timeouts: list[float | None] = []

    @property
    def calls(self) -> int:
        return len(self.timeouts)

    async def __call__(self, seconds: float | None) -> object:
        outcome = self.script[min(self.calls, len(self.script) - 1)]
        self.timeouts.append(seconds)
        if isinstance(outcome, BaseException):
            raise outcome
        return outcome


def make_policy(
    clock: ManualClock,
    config: ResilienceConfig | None = None,
    registry: CollectorRegistry | None = None,
) -> ResilientCall:
    """``orders→catalog`` on its own registry, with the test's clock and sleep."""
    return ResilientCall(
        "orders",
        "catalog",
        config,
        metrics=ResilienceMetrics(registry or CollectorRegistry()),
        clock=clock,
        sleep=clock.sleep,
    )
