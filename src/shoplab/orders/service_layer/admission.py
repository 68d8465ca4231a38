"""Admission: a placement is taken only while the system can settle it.

An order placed is a promise to settle it. Past a point, more placements in flight buy
no throughput, only waiting: once the wait passes a saga step's deadline the steps are
sent again, the resends add work to a system already behind, and the settled rate falls
(a collapse). So orders counts the placements it has admitted and not yet settled, and
refuses a new one past ``bound`` with ``PlacementsOverloaded`` (a 503 with
``Retry-After``) before anything is written: no order, no claim of its Idempotency-Key,
so the same request sent again later is placed normally.

What "in flight" means follows the settlement:

- in the monolith a placement settles in its own transaction: the count is the
  placements in progress (most waiting for the database's writer);
- in the microservices a placement settles when its saga ends: the count is the
  placements in progress plus the sagas not yet finished. This process adds a saga
  when its placement commits and removes it when the transition that settles it
  commits; ``recount`` sets the sagas from the database at start and every few
  seconds, so restarts, other instances and a rolled-back transition stay right.

A bound of 0 switches admission off: every placement is taken (the collapse, on purpose).
"""

from collections.abc import Callable

from shoplab.orders.domain.model import OrderStatus
from shoplab.orders.domain.saga import Decision
from shoplab.orders.service_layer.unit_of_work import OrdersUnitOfWork
from shoplab.platform.errors import Overloaded

PLACEMENT_ENDS = frozenset({OrderStatus.APPROVED, OrderStatus.REJECTED})
"""The statuses that end a placement's saga (a cancellation's saga is not a placement)."""


class PlacementsOverloaded(Overloaded):
    def __init__(self, retry_after_seconds: int) -> None:
        super().__init__(
            "Orders are settling all they can; place this order again in a moment"
            " (the same Idempotency-Key places it once).",
            retry_after_seconds,
        )


class Admission:
    """Placements admitted and not yet settled, refused past ``bound`` (0: never)."""

    def __init__(self, bound: int, retry_after_seconds: int = 1) -> None:
        self.bound = bound
        self.retry_after_seconds = retry_after_seconds
        self._placing = 0
        self._sagas = 0

    @property
    def in_flight(self) -> int:
        return self._placing + self._sagas

    def enter(self) -> None:
        """Admit one placement, or refuse it when the bound is reached."""
        if self.bound and self.in_flight >= self.bound:
            raise PlacementsOverloaded(self.retry_after_seconds)
        self._placing += 1

    def leave(self) -> None:
        """The placement's request is over, whatever its outcome."""
        self._placing -= 1

    def saga_started(self) -> None:
        """A placement committed an order that a saga will settle later."""
        self._sagas += 1

    def saga_settled(self) -> None:
        self._sagas = max(0, self._sagas - 1)

    def recount(self, unsettled: int) -> None:
        """The database's count of orders still waiting for their saga."""
        self._sagas = unsettled


def free_on_commit(uow: OrdersUnitOfWork, decision: Decision, admission: Admission | None) -> None:
    """Free the place of a saga that ``decision`` ends, once ``uow`` commits it."""
    if admission is not None and decision.settle in PLACEMENT_ENDS:
        uow.after_commit(admission.saga_settled)


async def recount(new_uow: Callable[[], OrdersUnitOfWork], admission: Admission) -> None:
    """Set the sagas in flight from the database: every instance's, whatever happened."""
    async with new_uow().read_only() as uow:
        admission.recount(await uow.orders.pending())
