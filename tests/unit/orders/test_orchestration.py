"""The order saga as a pure state machine: happy paths, compensations and timeouts."""

from datetime import UTC, datetime, timedelta

import pytest

from shoplab.orders.domain.model import NotCancellable, OrderStatus, Reason
from shoplab.orders.domain.orchestration import OrchestratedSaga, Reply, Timeouts
from shoplab.orders.domain.saga import Decision, SagaState, Step

T0 = datetime(2026, 1, 1, tzinfo=UTC)
TIMEOUTS = Timeouts(step=timedelta(seconds=5), attempts=3)


def placed() -> OrchestratedSaga:
    saga, decision = OrchestratedSaga.place("o1", "pm_card_visa", TIMEOUTS, T0)
    assert decision == Decision(send=(Step.RESERVE_STOCK,))
    return saga


def reply(saga: OrchestratedSaga, *replies: Reply) -> Decision:
    decision = Decision()
    for answer in replies:
        decision = saga.on_reply(answer, TIMEOUTS, T0)
    return decision


def late(saga: OrchestratedSaga) -> Decision:
    """Let the current step's deadline pass."""
    assert saga.deadline is not None
    return saga.on_timeout(TIMEOUTS, saga.deadline)


def test_placement_reserves_charges_commits_then_approves() -> None:
    saga = placed()
    assert reply(saga, Reply.STOCK_RESERVED) == Decision(send=(Step.CHARGE_PAYMENT,))
    assert reply(saga, Reply.PAYMENT_CHARGED) == Decision(send=(Step.COMMIT_STOCK,))
    assert reply(saga, Reply.STOCK_COMMITTED) == Decision(settle=OrderStatus.APPROVED)
    assert saga.state is SagaState.APPROVED
    assert saga.deadline is None
    assert [(r.name, r.status) for r in saga.history][-2:] == [
        ("COMMIT_STOCK", "SUCCEEDED"),
        ("APPROVED", "COMPLETED"),
    ]


def test_short_stock_rejects_without_compensation() -> None:
    saga = placed()
    decision = reply(saga, Reply.STOCK_SHORT)
    assert decision == Decision(settle=OrderStatus.REJECTED, reason=Reason.OUT_OF_STOCK)


@pytest.mark.parametrize(
    ("failure", "reason"),
    [
        (Reply.PAYMENT_DECLINED, Reason.PAYMENT_DECLINED),
        (Reply.PAYMENT_INSUFFICIENT_FUNDS, Reason.INSUFFICIENT_FUNDS),
    ],
)
def test_failed_charge_releases_the_stock_before_rejecting(failure: Reply, reason: Reason) -> None:
    saga = placed()
    reply(saga, Reply.STOCK_RESERVED)
    assert reply(saga, failure) == Decision(send=(Step.RELEASE_STOCK,))
    assert saga.state is SagaState.RELEASING_STOCK
    assert reply(saga, Reply.STOCK_RELEASED) == Decision(settle=OrderStatus.REJECTED, reason=reason)


def test_duplicate_and_late_answers_change_nothing() -> None:
    saga = placed()
    reply(saga, Reply.STOCK_RESERVED)
    before = (saga.state, len(saga.history))
    assert reply(saga, Reply.STOCK_RESERVED) == Decision()
    assert reply(saga, Reply.STOCK_RETURNED) == Decision()
    assert (saga.state, len(saga.history)) == before


def test_a_late_step_is_sent_again_before_its_deadline_is_given_up() -> None:
    saga = placed()
    assert saga.on_timeout(TIMEOUTS, T0 + timedelta(seconds=4)) == Decision()
    assert late(saga) == Decision(send=(Step.RESERVE_STOCK,))
    assert saga.attempts == 2
    assert late(saga) == Decision(send=(Step.RESERVE_STOCK,))
    assert saga.attempts == 3


def test_an_unanswered_reservation_is_never_given_up_nor_called_out_of_stock() -> None:
    """A slow inventory is no proof that stock is short: the saga keeps asking."""
    saga = placed()
    for _ in range(TIMEOUTS.attempts + 5):
        assert late(saga) == Decision(send=(Step.RESERVE_STOCK,))
    assert saga.state is SagaState.RESERVING_STOCK
    assert saga.reason is None
    assert "TIMED_OUT" not in [r.status for r in saga.history]
    assert reply(saga, Reply.STOCK_RESERVED) == Decision(send=(Step.CHARGE_PAYMENT,))


def test_resends_back_off_and_are_spread_by_the_jitter() -> None:
    """Waits grow past the charge's give-up window, each drawn anew around its schedule."""
    draws = iter([0.8, 1.2, 0.9, 1.1, 1.0, 0.75, 1.24])
    jittered = Timeouts(step=timedelta(seconds=5), attempts=3, jitter=lambda: next(draws))
    saga, _ = OrchestratedSaga.place("o1", "pm_card_visa", jittered, T0)
    assert saga.deadline == T0 + timedelta(seconds=5), "the first wait is one step"
    waits = []
    for _ in range(7):
        assert saga.deadline is not None
        start = saga.deadline
        saga.on_timeout(jittered, start)
        assert saga.deadline is not None
        waits.append((saga.deadline - start).total_seconds())
    assert waits == pytest.approx([4.0, 6.0, 9.0, 22.0, 40.0, 30.0, 49.6])


def test_an_unanswered_charge_is_voided_and_rejected_as_payment_unavailable() -> None:
    saga = placed()
    reply(saga, Reply.STOCK_RESERVED)
    late(saga)
    late(saga)
    assert late(saga) == Decision(send=(Step.VOID_PAYMENT, Step.RELEASE_STOCK))
    assert saga.void_pending
    assert reply(saga, Reply.PAYMENT_CHARGED) == Decision(), "a late charge is not trusted"
    assert reply(saga, Reply.STOCK_RELEASED) == Decision(
        settle=OrderStatus.REJECTED, reason=Reason.PAYMENT_UNAVAILABLE
    )
    assert reply(saga, Reply.PAYMENT_VOIDED) == Decision()
    assert not saga.void_pending
    assert ("VOID_PAYMENT", "SUCCEEDED") in [(r.name, r.status) for r in saga.history]


def test_steps_after_the_charge_are_retried_with_growing_intervals_and_never_given_up() -> None:
    saga = placed()
    reply(saga, Reply.STOCK_RESERVED, Reply.PAYMENT_CHARGED)
    intervals = []
    for _ in range(8):
        assert saga.deadline is not None
        start = saga.deadline
        assert late(saga) == Decision(send=(Step.COMMIT_STOCK,))
        assert saga.deadline is not None
        intervals.append(saga.deadline - start)
    assert saga.state is SagaState.COMMITTING_STOCK
    assert intervals[0] == TIMEOUTS.step
    assert intervals[-1] == TIMEOUTS.step * 8, "the interval is capped"
    assert intervals == sorted(intervals)


def test_cancellation_refunds_then_returns_the_stock() -> None:
    saga = placed()
    reply(saga, Reply.STOCK_RESERVED, Reply.PAYMENT_CHARGED, Reply.STOCK_COMMITTED)
    assert saga.cancel(OrderStatus.APPROVED, TIMEOUTS, T0) == Decision(send=(Step.REFUND_PAYMENT,))
    assert saga.cancel(OrderStatus.APPROVED, TIMEOUTS, T0) == Decision(), "asking twice"
    assert reply(saga, Reply.PAYMENT_REFUNDED) == Decision(send=(Step.RETURN_STOCK,))
    assert reply(saga, Reply.STOCK_RETURNED) == Decision(
        settle=OrderStatus.CANCELLED, reason=Reason.CANCELLED_BY_CUSTOMER
    )


def test_only_an_approved_order_can_be_cancelled() -> None:
    saga = placed()
    with pytest.raises(NotCancellable):
        saga.cancel(OrderStatus.PENDING, TIMEOUTS, T0)
    reply(saga, Reply.STOCK_SHORT)
    with pytest.raises(NotCancellable):
        saga.cancel(OrderStatus.REJECTED, TIMEOUTS, T0)
