"""The history's merge rules: any order of the facts, any number of duplicates, one result."""

import itertools
from datetime import UTC, datetime, timedelta

import pytest

from shoplab.history.domain.model import (
    Charged,
    Fact,
    Notified,
    OrderHistory,
    PaymentFailed,
    Placed,
    Refunded,
    Settled,
    Status,
    apply,
)

PLACED_AT = datetime(2026, 1, 1, 12, 0, 0, 123456, tzinfo=UTC)
APPROVED_AT = PLACED_AT + timedelta(seconds=1)
CANCELLED_AT = PLACED_AT + timedelta(seconds=5)


def settled(status: Status, at: datetime, reason: str | None = None) -> Settled:
    return Settled("o1", "c1", status, reason, 1500, "EUR", at)


PLACED = Placed("o1", "c1", 1500, "EUR", PLACED_AT)
APPROVED = settled(Status.APPROVED, APPROVED_AT)
CANCELLED = settled(Status.CANCELLED, CANCELLED_AT, "CANCELLED_BY_CUSTOMER")
LIFE: list[Fact] = [
    PLACED,
    Charged("o1", 1500),
    APPROVED,
    Notified("o1", "ORDER_APPROVED"),
    Refunded("o1", 1500),
    CANCELLED,
    Notified("o1", "ORDER_CANCELLED"),
]


def fold(facts: list[Fact]) -> OrderHistory:
    entry: OrderHistory | None = None
    for fact in facts:
        entry = apply(entry, fact)
    assert entry is not None
    return entry


def test_a_whole_life_in_order() -> None:
    entry = fold(LIFE)
    assert entry.status is Status.CANCELLED
    assert entry.reason == "CANCELLED_BY_CUSTOMER"
    assert (entry.created_at, entry.updated_at) == (PLACED_AT, CANCELLED_AT)
    assert (entry.charged_cents, entry.refunded_cents) == (1500, 1500)
    assert entry.notifications == {"ORDER_APPROVED", "ORDER_CANCELLED"}
    assert entry.listed


@pytest.mark.parametrize("order", list(itertools.permutations(range(5))))
def test_any_order_of_the_facts_gives_the_same_entry(order: tuple[int, ...]) -> None:
    facts: list[Fact] = [
        PLACED,
        Charged("o1", 1500),
        APPROVED,
        Notified("o1", "ORDER_APPROVED"),
        CANCELLED,
    ]
    assert fold([facts[i] for i in order]) == fold(facts)


def test_duplicates_change_nothing() -> None:
    assert fold([f for fact in LIFE for f in (fact, fact)]) == fold(LIFE)
    assert fold([*LIFE, *LIFE]) == fold(LIFE)


def test_the_status_never_moves_back() -> None:
    entry = fold([PLACED, CANCELLED, APPROVED])
    assert entry.status is Status.CANCELLED
    assert entry.updated_at == CANCELLED_AT


def test_a_placement_after_its_outcome_keeps_the_outcome_time() -> None:
    entry = fold([APPROVED, PLACED])
    assert entry.status is Status.APPROVED
    assert (entry.created_at, entry.updated_at) == (PLACED_AT, APPROVED_AT)


def test_a_pending_order_was_updated_when_placed() -> None:
    entry = fold([PLACED])
    assert (entry.status, entry.updated_at, entry.reason) == (Status.PENDING, PLACED_AT, None)


def test_payments_before_the_placement_are_kept_but_not_listed() -> None:
    early = fold([Charged("o1", 1500), PaymentFailed("o1", "DECLINED")])
    assert not early.listed
    later = apply(early, PLACED)
    assert later.listed
    assert (later.charged_cents, later.payment_failure) == (1500, "DECLINED")


def test_a_rejection_carries_its_reason() -> None:
    entry = fold([PLACED, settled(Status.REJECTED, APPROVED_AT, "PAYMENT_DECLINED")])
    assert (entry.status, entry.reason) == (Status.REJECTED, "PAYMENT_DECLINED")
