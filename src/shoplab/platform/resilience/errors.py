"""What the resilience patterns raise when they refuse or cut short a call.

Each is an ``Unavailable``: the HTTP edge already answers those with a 503
problem, so a refused call needs no new mapping. The message names the
dependency (a service name, safe to show) and never an address.
"""

from shoplab.platform.errors import Unavailable


class ExchangeBroken(Exception):
    """An HTTP exchange broke after its request was sent: the connection failed or the answer
    could not be read. A failure of the dependency, and never retried: a write may have
    taken effect."""


class ResilienceError(Unavailable):
    """The call was refused or cut short by this process, not answered by the dependency."""

    def __init__(self, dependency: str, message: str) -> None:
        super().__init__(message)
        self.dependency = dependency


class DeadlineExceeded(ResilienceError):
    """No time was left for the call; ``called`` says whether the dependency was reached."""

    def __init__(self, dependency: str, *, called: bool) -> None:
        when = "timed out" if called else "was not tried: the request's deadline had passed"
        super().__init__(dependency, f"The call to {dependency} {when}.")
        self.called = called


class CircuitOpen(ResilienceError):
    def __init__(self, dependency: str) -> None:
        super().__init__(
            dependency, f"The circuit to {dependency} is open: it failed recently; try again soon."
        )


class BulkheadFull(ResilienceError):
    def __init__(self, dependency: str, limit: int) -> None:
        super().__init__(
            dependency, f"Too many calls to {dependency} at once (limit {limit}); try again soon."
        )
        self.limit = limit
