"""The orchestrated order saga: placement and cancellation as a state machine with compensations.

Placement: reserve stock → charge the payment → commit the stock → APPROVED.
A short stock rejects at once; a failed charge releases the stock, then rejects.
Cancellation of an approved order: refund → return the stock → CANCELLED.

The saga is pure: it is told what a participant answered (``on_reply``) or that a
step's deadline passed (``on_timeout``), and decides which commands to send and
whether the order is settled. The service layer persists it, sends the commands
through the outbox and applies the decision to the order, in one transaction.

Timeouts. A step without an answer by its deadline sends its command again
(every participant is idempotent per order), after a wait that doubles from the
``attempts``-th send on (capped at ``MAX_BACKOFF_FACTOR`` steps) and is jittered, so
that sagas placed together do not send again together. Only the charge gives up,
after ``attempts`` sends: it may or may not have happened, so the saga voids it
(refund if it happened, refuse it if it comes later), releases the stock and
rejects as ``PAYMENT_UNAVAILABLE``. The void is tracked, not awaited.

The reservation is never given up: a late answer says that inventory is slow or
down, not that stock is short, and the contract has no reason for "inventory did
not answer". Rejecting it ``OUT_OF_STOCK`` would tell a customer a falsehood while
stock exists; the order stays ``PENDING`` until inventory answers (its commands
wait in the broker), and admission refuses new placements meanwhile.

The steps after the pivot (commit) and the compensations (release, refund, return)
cannot be given up either: they are retried, with a growing interval, until answered.
"""

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum

from shoplab.orders.domain.model import NotCancellable, Order, OrderStatus, Reason
from shoplab.orders.domain.saga import NOTHING, Decision, SagaState, Step, StepRecord

WAITING_FOR: dict[SagaState, Step] = {
    SagaState.RESERVING_STOCK: Step.RESERVE_STOCK,
    SagaState.CHARGING_PAYMENT: Step.CHARGE_PAYMENT,
    SagaState.COMMITTING_STOCK: Step.COMMIT_STOCK,
    SagaState.RELEASING_STOCK: Step.RELEASE_STOCK,
    SagaState.REFUNDING_PAYMENT: Step.REFUND_PAYMENT,
    SagaState.RETURNING_STOCK: Step.RETURN_STOCK,
}
"""The step whose answer each running state waits for; final states wait for none."""

GIVES_UP = {Step.CHARGE_PAYMENT}
"""The charge, compensated after too many unanswered sends (the reservation waits)."""

MAX_BACKOFF_FACTOR = 8


def no_jitter() -> float:
    return 1.0


class Reply(StrEnum):
    """What a participant answered, in the saga's words."""

    STOCK_RESERVED = "STOCK_RESERVED"
    STOCK_SHORT = "STOCK_SHORT"
    STOCK_COMMITTED = "STOCK_COMMITTED"
    STOCK_RELEASED = "STOCK_RELEASED"
    STOCK_RETURNED = "STOCK_RETURNED"
    PAYMENT_CHARGED = "PAYMENT_CHARGED"
    PAYMENT_DECLINED = "PAYMENT_DECLINED"
    PAYMENT_INSUFFICIENT_FUNDS = "PAYMENT_INSUFFICIENT_FUNDS"
    PAYMENT_REFUSED = "PAYMENT_REFUSED"
    PAYMENT_REFUNDED = "PAYMENT_REFUNDED"
    PAYMENT_VOIDED = "PAYMENT_VOIDED"


CHARGE_FAILURES = {
    Reply.PAYMENT_DECLINED: Reason.PAYMENT_DECLINED,
    Reply.PAYMENT_INSUFFICIENT_FUNDS: Reason.INSUFFICIENT_FUNDS,
    Reply.PAYMENT_REFUSED: Reason.PAYMENT_UNAVAILABLE,
}


@dataclass(frozen=True)
class Timeouts:
    step: timedelta
    attempts: int
    jitter: Callable[[], float] = field(default=no_jitter, compare=False)
    """A factor near 1 drawn for each resend's wait (the settings draw it in [0.75, 1.25))."""

    def deadline(self, now: datetime, attempt: int) -> datetime:
        """The first send waits one step; a resend waits a step while the charge may still
        give up, then twice as long each time (at most ``MAX_BACKOFF_FACTOR`` steps), each
        wait spread by ``jitter`` so that sagas that were late together part ways."""
        if attempt == 1:
            return now + self.step
        factor: int = min(2 ** max(0, attempt - self.attempts), MAX_BACKOFF_FACTOR)
        return now + self.step * factor * self.jitter()


@dataclass(frozen=True)
class OrderTerms:
    """What the saga's commands carry of its order (the quantities to reserve, the amount
    to charge), kept with the saga so that a step need not read the order and its lines."""

    quantities: dict[str, int]
    amount_cents: int
    currency: str

    @classmethod
    def of(cls, order: Order) -> "OrderTerms":
        return cls(order.quantities(), order.total_cents, order.currency)


@dataclass
class OrchestratedSaga:
    order_id: str
    payment_method: str
    state: SagaState
    attempts: int = 1
    deadline: datetime | None = None
    reason: Reason | None = None
    void_pending: bool = False
    history: list[StepRecord] = field(default_factory=list)
    terms: OrderTerms | None = None
    """``None`` for a saga stored before sagas kept their terms: read them from the order."""

    @classmethod
    def place(
        cls,
        order_id: str,
        payment_method: str,
        timeouts: Timeouts,
        now: datetime,
        terms: OrderTerms | None = None,
    ) -> tuple["OrchestratedSaga", Decision]:
        saga = cls(order_id, payment_method, SagaState.RESERVING_STOCK, terms=terms)
        return saga, saga._enter(SagaState.RESERVING_STOCK, timeouts, now)

    @property
    def finished(self) -> bool:
        return self.state not in WAITING_FOR

    def cancel(self, order_status: OrderStatus, timeouts: Timeouts, now: datetime) -> Decision:
        """Start the cancellation of an approved order; asking again changes nothing."""
        if self.state in (SagaState.REFUNDING_PAYMENT, SagaState.RETURNING_STOCK):
            return NOTHING
        if self.state is not SagaState.APPROVED:
            raise NotCancellable(order_status)
        return self._enter(SagaState.REFUNDING_PAYMENT, timeouts, now)

    def on_reply(self, reply: Reply, timeouts: Timeouts, now: datetime) -> Decision:
        """Advance on an answer; an answer the saga no longer waits for changes nothing."""
        if reply is Reply.PAYMENT_VOIDED:
            if self.void_pending:
                self.void_pending = False
                self._record(Step.VOID_PAYMENT, "SUCCEEDED", now)
            return NOTHING
        match self.state, reply:
            case SagaState.RESERVING_STOCK, Reply.STOCK_RESERVED:
                self._record(Step.RESERVE_STOCK, "SUCCEEDED", now)
                return self._enter(SagaState.CHARGING_PAYMENT, timeouts, now)
            case SagaState.RESERVING_STOCK, Reply.STOCK_SHORT:
                self._record(Step.RESERVE_STOCK, "FAILED", now)
                return self._finish(SagaState.REJECTED, now, Reason.OUT_OF_STOCK)
            case SagaState.CHARGING_PAYMENT, Reply.PAYMENT_CHARGED:
                self._record(Step.CHARGE_PAYMENT, "SUCCEEDED", now)
                return self._enter(SagaState.COMMITTING_STOCK, timeouts, now)
            case SagaState.CHARGING_PAYMENT, failure if failure in CHARGE_FAILURES:
                self._record(Step.CHARGE_PAYMENT, "FAILED", now)
                self.reason = CHARGE_FAILURES[failure]
                return self._enter(SagaState.RELEASING_STOCK, timeouts, now)
            case SagaState.COMMITTING_STOCK, Reply.STOCK_COMMITTED:
                self._record(Step.COMMIT_STOCK, "SUCCEEDED", now)
                return self._finish(SagaState.APPROVED, now)
            case SagaState.RELEASING_STOCK, Reply.STOCK_RELEASED:
                self._record(Step.RELEASE_STOCK, "SUCCEEDED", now)
                return self._finish(SagaState.REJECTED, now, self.reason)
            case SagaState.REFUNDING_PAYMENT, Reply.PAYMENT_REFUNDED:
                self._record(Step.REFUND_PAYMENT, "SUCCEEDED", now)
                return self._enter(SagaState.RETURNING_STOCK, timeouts, now)
            case SagaState.RETURNING_STOCK, Reply.STOCK_RETURNED:
                self._record(Step.RETURN_STOCK, "SUCCEEDED", now)
                return self._finish(SagaState.CANCELLED, now, Reason.CANCELLED_BY_CUSTOMER)
        return NOTHING

    def on_timeout(self, timeouts: Timeouts, now: datetime) -> Decision:
        """The awaited answer is late: send again, or give up and compensate."""
        step = WAITING_FOR.get(self.state)
        if step is None or self.deadline is None or now < self.deadline:
            return NOTHING
        if step in GIVES_UP and self.attempts >= timeouts.attempts:
            self._record(step, "TIMED_OUT", now)
            self.reason = Reason.PAYMENT_UNAVAILABLE
            self.void_pending = True
            self._record(Step.VOID_PAYMENT, "STARTED", now)
            release = self._enter(SagaState.RELEASING_STOCK, timeouts, now)
            return Decision(send=(Step.VOID_PAYMENT, *release.send))
        self.attempts += 1
        self.deadline = timeouts.deadline(now, self.attempts)
        self._record(step, "RETRIED", now)
        return Decision(send=(step,))

    def _enter(self, state: SagaState, timeouts: Timeouts, now: datetime) -> Decision:
        self.state = state
        self.attempts = 1
        step = WAITING_FOR[state]
        self.deadline = timeouts.deadline(now, self.attempts)
        self._record(step, "STARTED", now)
        return Decision(send=(step,))

    def _finish(self, state: SagaState, now: datetime, reason: Reason | None = None) -> Decision:
        self.state = state
        self.deadline = None
        self.reason = reason
        settle = {
            SagaState.APPROVED: OrderStatus.APPROVED,
            SagaState.REJECTED: OrderStatus.REJECTED,
            SagaState.CANCELLED: OrderStatus.CANCELLED,
        }[state]
        self._record(state.value, "COMPLETED", now)
        return Decision(settle=settle, reason=reason)

    def _record(self, name: str, status: str, now: datetime) -> None:
        self.history.append(StepRecord(name, status, now))
