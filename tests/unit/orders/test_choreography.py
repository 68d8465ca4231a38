"""The choreographed saga's pure decisions: orders' view of the facts, payments' charge request.

Events of a choreography travel on different streams, so the tests feed the facts in
every order they may arrive in, and twice, and expect the same outcome.
"""

from datetime import UTC, datetime, timedelta
from itertools import permutations

import pytest

from shoplab.orders.domain.choreography import ChoreographedSaga, Fact
from shoplab.orders.domain.model import NotCancellable, OrderStatus, Reason
from shoplab.orders.domain.saga import NOTHING, Decision, SagaState
from shoplab.payments.domain.charge_request import ChargeRequest, ChargeTerms

T0 = datetime(2026, 1, 1, tzinfo=UTC)
TERMS = ChargeTerms(1500, "USD", "pm_card_visa")


def at(seconds: int) -> datetime:
    return T0 + timedelta(seconds=seconds)


def state_of(saga: ChoreographedSaga) -> SagaState:
    """Read afresh (a property, which static narrowing would take for a constant)."""
    return saga.state


def feed(saga: ChoreographedSaga, facts: list[Fact], order: OrderStatus) -> list[Decision]:
    """Observe each fact, applying each settlement to the order's status as orders does."""
    decisions = []
    for second, fact in enumerate(facts, start=1):
        decision = saga.observe(fact, at(second), order)
        order = decision.settle or order
        decisions.append(decision)
    return decisions


def test_a_placement_is_approved_once_the_stock_is_committed() -> None:
    saga = ChoreographedSaga.place("o1", T0)
    assert state_of(saga) is SagaState.RESERVING_STOCK
    decisions = feed(
        saga,
        [Fact.STOCK_RESERVED, Fact.PAYMENT_CHARGED, Fact.STOCK_COMMITTED],
        OrderStatus.PENDING,
    )
    assert decisions == [NOTHING, NOTHING, Decision(settle=OrderStatus.APPROVED)]
    assert state_of(saga) is SagaState.APPROVED
    assert [(s.name, s.status) for s in saga.steps] == [
        ("ORDER_PLACED", "PUBLISHED"),
        ("RESERVE_STOCK", "SUCCEEDED"),
        ("CHARGE_PAYMENT", "SUCCEEDED"),
        ("COMMIT_STOCK", "SUCCEEDED"),
        ("APPROVED", "COMPLETED"),
    ]


def test_steps_are_shown_in_the_order_they_happened_not_the_order_they_arrived() -> None:
    saga = ChoreographedSaga.place("o1", T0)
    saga.observe(Fact.STOCK_COMMITTED, at(3), OrderStatus.PENDING)
    saga.observe(Fact.PAYMENT_CHARGED, at(2), OrderStatus.APPROVED)
    assert [s.name for s in saga.steps] == [
        "ORDER_PLACED",
        "CHARGE_PAYMENT",
        "COMMIT_STOCK",
        "APPROVED",
    ]


def test_a_short_stock_rejects_as_out_of_stock() -> None:
    saga = ChoreographedSaga.place("o1", T0)
    decision = saga.observe(Fact.STOCK_SHORT, at(1), OrderStatus.PENDING)
    assert decision == Decision(settle=OrderStatus.REJECTED, reason=Reason.OUT_OF_STOCK)
    assert state_of(saga) is SagaState.REJECTED


@pytest.mark.parametrize(
    ("failure", "reason"),
    [
        (Fact.PAYMENT_DECLINED, Reason.PAYMENT_DECLINED),
        (Fact.PAYMENT_INSUFFICIENT_FUNDS, Reason.INSUFFICIENT_FUNDS),
    ],
)
@pytest.mark.parametrize("arrival", list(permutations(range(3))))
def test_a_failed_payment_rejects_with_its_reason_only_once_the_stock_is_released(
    failure: Fact, reason: Reason, arrival: tuple[int, ...]
) -> None:
    """Whatever the order of arrival, the order is rejected on the last of the three facts."""
    facts = [Fact.STOCK_RESERVED, failure, Fact.STOCK_RELEASED]
    saga = ChoreographedSaga.place("o1", T0)
    decisions = feed(saga, [facts[i] for i in arrival], OrderStatus.PENDING)
    if arrival.index(0) == 2:
        # The reservation arrived last: the rejection came already with the second fact
        assert decisions[1] == Decision(settle=OrderStatus.REJECTED, reason=reason)
    else:
        assert decisions[:2] == [NOTHING, NOTHING]
        assert decisions[2] == Decision(settle=OrderStatus.REJECTED, reason=reason)
    assert state_of(saga) is SagaState.REJECTED


def test_the_release_alone_does_not_reject_the_order_waits_for_the_cause() -> None:
    saga = ChoreographedSaga.place("o1", T0)
    assert saga.observe(Fact.STOCK_RELEASED, at(1), OrderStatus.PENDING) == NOTHING
    assert state_of(saga) is SagaState.RELEASING_STOCK


def test_a_fact_seen_twice_changes_nothing() -> None:
    saga = ChoreographedSaga.place("o1", T0)
    saga.observe(Fact.STOCK_RESERVED, at(1), OrderStatus.PENDING)
    assert saga.observe(Fact.STOCK_RESERVED, at(2), OrderStatus.PENDING) == NOTHING
    assert [s.name for s in saga.steps].count("RESERVE_STOCK") == 1


def test_a_late_fact_about_a_settled_order_settles_nothing() -> None:
    saga = ChoreographedSaga.place("o1", T0)
    saga.observe(Fact.STOCK_SHORT, at(1), OrderStatus.PENDING)
    assert saga.observe(Fact.STOCK_COMMITTED, at(2), OrderStatus.REJECTED) == NOTHING


def test_a_cancellation_ends_cancelled_once_the_stock_is_returned() -> None:
    saga = ChoreographedSaga.place("o1", T0)
    feed(
        saga, [Fact.STOCK_RESERVED, Fact.PAYMENT_CHARGED, Fact.STOCK_COMMITTED], OrderStatus.PENDING
    )
    assert saga.request_cancel(OrderStatus.APPROVED, at(10)) is True
    assert saga.request_cancel(OrderStatus.APPROVED, at(11)) is False, "asked twice: once"
    assert state_of(saga) is SagaState.REFUNDING_PAYMENT
    assert saga.observe(Fact.PAYMENT_REFUNDED, at(12), OrderStatus.APPROVED) == NOTHING
    assert state_of(saga) is SagaState.RETURNING_STOCK
    decision = saga.observe(Fact.STOCK_RETURNED, at(13), OrderStatus.APPROVED)
    assert decision == Decision(settle=OrderStatus.CANCELLED, reason=Reason.CANCELLED_BY_CUSTOMER)
    assert state_of(saga) is SagaState.CANCELLED
    with pytest.raises(NotCancellable):
        saga.request_cancel(OrderStatus.CANCELLED, at(14))


def test_only_an_approved_order_can_be_cancelled() -> None:
    saga = ChoreographedSaga.place("o1", T0)
    with pytest.raises(NotCancellable):
        saga.request_cancel(OrderStatus.PENDING, at(1))


@pytest.mark.parametrize("placed_first", [True, False])
def test_payments_charges_once_it_has_both_the_terms_and_the_go_ahead(placed_first: bool) -> None:
    request = ChargeRequest("o1")
    if placed_first:
        assert request.order_placed(TERMS) is None
        assert request.reserved() == TERMS
    else:
        assert request.reserved() is None
        assert request.order_placed(TERMS) == TERMS
    assert request.reserved() is None, "never charged twice"
    assert request.order_placed(TERMS) is None, "never charged twice"
