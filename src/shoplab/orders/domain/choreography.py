"""The orders service's view of a choreographed saga: what it saw, and what follows from it.

In choreography nobody sends commands: inventory and payments react to each other's
events. Orders only listens, records each event as a *fact*, and settles the order
when the facts it holds are enough:

- ``STOCK_SHORT``: nothing was held, so the order is ``REJECTED`` ``OUT_OF_STOCK``;
- ``STOCK_COMMITTED``: the stock left and (before it) the payment was charged: ``APPROVED``;
- ``STOCK_RELEASED`` *and* a payment failure: ``REJECTED`` with the payment's reason.
  Both are needed because the two events travel on different streams and may arrive in
  either order: the release says the compensation is done, the failure says why;
- after a cancellation request, ``STOCK_RETURNED``: ``CANCELLED`` (the refund came first).

The decision depends on the set of facts, never on the order they arrived in, and a
fact seen twice is ignored: redelivered or reordered events lead to the same outcome.
"""

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

from shoplab.orders.domain.model import NotCancellable, OrderStatus, Reason
from shoplab.orders.domain.saga import NOTHING, Decision, SagaState, StepRecord


class Fact(StrEnum):
    """An event the orders service saw, in its own words."""

    PLACED = "PLACED"
    STOCK_RESERVED = "STOCK_RESERVED"
    STOCK_SHORT = "STOCK_SHORT"
    PAYMENT_CHARGED = "PAYMENT_CHARGED"
    PAYMENT_DECLINED = "PAYMENT_DECLINED"
    PAYMENT_INSUFFICIENT_FUNDS = "PAYMENT_INSUFFICIENT_FUNDS"
    PAYMENT_REFUSED = "PAYMENT_REFUSED"
    STOCK_COMMITTED = "STOCK_COMMITTED"
    STOCK_RELEASED = "STOCK_RELEASED"
    CANCEL_REQUESTED = "CANCEL_REQUESTED"
    PAYMENT_REFUNDED = "PAYMENT_REFUNDED"
    STOCK_RETURNED = "STOCK_RETURNED"


STEPS: dict[Fact, tuple[str, str]] = {
    Fact.PLACED: ("ORDER_PLACED", "PUBLISHED"),
    Fact.STOCK_RESERVED: ("RESERVE_STOCK", "SUCCEEDED"),
    Fact.STOCK_SHORT: ("RESERVE_STOCK", "FAILED"),
    Fact.PAYMENT_CHARGED: ("CHARGE_PAYMENT", "SUCCEEDED"),
    Fact.PAYMENT_DECLINED: ("CHARGE_PAYMENT", "FAILED"),
    Fact.PAYMENT_INSUFFICIENT_FUNDS: ("CHARGE_PAYMENT", "FAILED"),
    Fact.PAYMENT_REFUSED: ("CHARGE_PAYMENT", "FAILED"),
    Fact.STOCK_COMMITTED: ("COMMIT_STOCK", "SUCCEEDED"),
    Fact.STOCK_RELEASED: ("RELEASE_STOCK", "SUCCEEDED"),
    Fact.CANCEL_REQUESTED: ("CANCELLATION_REQUESTED", "PUBLISHED"),
    Fact.PAYMENT_REFUNDED: ("REFUND_PAYMENT", "SUCCEEDED"),
    Fact.STOCK_RETURNED: ("RETURN_STOCK", "SUCCEEDED"),
}
"""How each fact reads in the saga view: the step of the orchestrated saga it matches."""

PAYMENT_FAILURES = {
    Fact.PAYMENT_DECLINED: Reason.PAYMENT_DECLINED,
    Fact.PAYMENT_INSUFFICIENT_FUNDS: Reason.INSUFFICIENT_FUNDS,
    Fact.PAYMENT_REFUSED: Reason.PAYMENT_UNAVAILABLE,
}

_SETTLED = {
    OrderStatus.APPROVED: SagaState.APPROVED,
    OrderStatus.REJECTED: SagaState.REJECTED,
    OrderStatus.CANCELLED: SagaState.CANCELLED,
}


@dataclass
class ChoreographedSaga:
    """The facts orders holds about one order, and the steps they make, oldest first."""

    order_id: str
    facts: set[Fact] = field(default_factory=set)
    outcome: OrderStatus | None = None
    history: list[StepRecord] = field(default_factory=list)

    @classmethod
    def place(cls, order_id: str, at: datetime) -> "ChoreographedSaga":
        saga = cls(order_id)
        saga._note(Fact.PLACED, at)
        return saga

    @property
    def state(self) -> SagaState:
        """Where the saga stands, as the orchestrated saga would name it."""
        facts = self.facts
        if Fact.CANCEL_REQUESTED in facts and self.outcome is not OrderStatus.CANCELLED:
            if Fact.PAYMENT_REFUNDED in facts:
                return SagaState.RETURNING_STOCK
            return SagaState.REFUNDING_PAYMENT
        if self.outcome is not None:
            return _SETTLED[self.outcome]
        if Fact.STOCK_RELEASED in facts or facts & set(PAYMENT_FAILURES):
            return SagaState.RELEASING_STOCK
        if facts & {Fact.PAYMENT_CHARGED, Fact.STOCK_COMMITTED}:
            return SagaState.COMMITTING_STOCK
        if Fact.STOCK_RESERVED in facts:
            return SagaState.CHARGING_PAYMENT
        return SagaState.RESERVING_STOCK

    @property
    def steps(self) -> list[StepRecord]:
        """The history in the order things happened (events may arrive out of order)."""
        return sorted(self.history, key=lambda record: record.at)

    def observe(self, fact: Fact, at: datetime, order: OrderStatus) -> Decision:
        """Record a fact seen at ``at``; settle the order once the facts decide it."""
        if fact in self.facts:
            return NOTHING
        self._note(fact, at)
        decision = self._decide(order)
        if decision.settle is not None:
            self.outcome = decision.settle
            self.history.append(StepRecord(decision.settle.value, "COMPLETED", at))
        return decision

    def request_cancel(self, order: OrderStatus, at: datetime) -> bool:
        """True when the cancellation starts now; False when it was asked for already."""
        if order is not OrderStatus.APPROVED:
            raise NotCancellable(order)
        if Fact.CANCEL_REQUESTED in self.facts:
            return False
        self._note(Fact.CANCEL_REQUESTED, at)
        return True

    def _decide(self, order: OrderStatus) -> Decision:
        facts = self.facts
        if order is OrderStatus.PENDING:
            if Fact.STOCK_SHORT in facts:
                return Decision(settle=OrderStatus.REJECTED, reason=Reason.OUT_OF_STOCK)
            if Fact.STOCK_COMMITTED in facts:
                return Decision(settle=OrderStatus.APPROVED)
            failures = [PAYMENT_FAILURES[f] for f in PAYMENT_FAILURES if f in facts]
            if Fact.STOCK_RELEASED in facts and failures:
                return Decision(settle=OrderStatus.REJECTED, reason=failures[0])
        if order is OrderStatus.APPROVED and {Fact.CANCEL_REQUESTED, Fact.STOCK_RETURNED} <= facts:
            return Decision(settle=OrderStatus.CANCELLED, reason=Reason.CANCELLED_BY_CUSTOMER)
        return NOTHING

    def _note(self, fact: Fact, at: datetime) -> None:
        self.facts.add(fact)
        name, status = STEPS[fact]
        self.history.append(StepRecord(name, status, at))
