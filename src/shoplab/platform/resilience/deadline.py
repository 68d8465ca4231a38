"""The deadline of the request being served, carried across every hop.

A request enters with a time budget (the gateway's own, a gRPC deadline, or a
header from an HTTP caller). It is kept in a context variable as an absolute
instant on this process's monotonic clock, so every call made while serving the
request, however deep, sees what is left. A call's timeout is the smaller of its
own timeout and the time left; a call made after the deadline fails at once,
without reaching the network: nobody is waiting for its answer any more.

Across a process boundary only the *remaining* seconds travel (as gRPC's own
``timeout=``, or the ``shoplab-timeout-ms`` header), never an instant: two
machines' clocks do not agree, but both can count down.
"""

import math
from collections.abc import Iterator, Mapping
from contextlib import AbstractContextManager, contextmanager
from contextvars import ContextVar
from typing import Protocol

from shoplab.platform.resilience.clock import MONOTONIC, Clock

HEADER = "shoplab-timeout-ms"
"""HTTP header (and gRPC metadata key) with the caller's remaining time, in milliseconds."""

_deadline: ContextVar[float | None] = ContextVar("shoplab_deadline", default=None)


def remaining(clock: Clock = MONOTONIC) -> float | None:
    """Seconds left before the current deadline (zero or less once passed); None without one."""
    at = _deadline.get()
    return None if at is None else at - clock()


def expired(clock: Clock = MONOTONIC) -> bool:
    left = remaining(clock)
    return left is not None and left <= 0


def timeout_for(own: float, clock: Clock = MONOTONIC) -> float:
    """A call's timeout: its own, shortened to what is left of the inherited deadline."""
    left = remaining(clock)
    return own if left is None else min(own, left)


@contextmanager
def within(seconds: float | None, clock: Clock = MONOTONIC) -> Iterator[None]:
    """Run the block under a deadline ``seconds`` from now, never later than the inherited one.

    ``None`` adds no bound of its own: the block keeps the inherited deadline, if any.
    """
    if seconds is None:
        yield
        return
    at = clock() + seconds
    inherited = _deadline.get()
    token = _deadline.set(at if inherited is None else min(at, inherited))
    try:
        yield
    finally:
        _deadline.reset(token)


class _GrpcContext(Protocol):
    def time_remaining(self) -> float | None: ...


def inherit_grpc(context: _GrpcContext, clock: Clock = MONOTONIC) -> AbstractContextManager[None]:
    """Serve a gRPC request under its caller's deadline: ``with inherit_grpc(context): ...``."""
    return within(context.time_remaining(), clock)


def inherit_http(
    headers: Mapping[str, str], clock: Clock = MONOTONIC
) -> AbstractContextManager[None]:
    """Serve an HTTP request under the deadline its caller sent in the ``HEADER`` header."""
    return within(from_header(headers.get(HEADER)), clock)


def from_header(value: str | None) -> float | None:
    """Seconds from a ``shoplab-timeout-ms`` header; None when absent or not a number."""
    if value is None:
        return None
    try:
        millis = float(value)
    except ValueError:
        return None
    return max(millis, 0.0) / 1000 if math.isfinite(millis) else None


def to_header(clock: Clock = MONOTONIC) -> dict[str, str]:
    """The header that passes the remaining time to an HTTP callee; empty without a deadline."""
    left = remaining(clock)
    return {} if left is None else {HEADER: str(max(0, math.floor(left * 1000)))}
