"""An order as the history remembers it, and the rules that merge facts into it.

The facts come from three logs (orders, payments, notifications) read at their
own pace, so they arrive in any order across sources and may arrive twice.
Every rule here therefore commutes and is idempotent: the entry reached is the
same whatever the order of the facts and however many times each comes.

- the status only moves forward by rank (``PENDING`` < ``APPROVED``/``REJECTED`` <
  ``CANCELLED``); the fact that set the status also sets ``updated_at``;
- what the placement tells (customer, total, ``created_at``) is set, never changed;
- money is the largest amount seen (a charge and a refund each happen once);
- notifications are a set of kinds.
"""

from dataclasses import dataclass, replace
from datetime import datetime
from enum import StrEnum


class Status(StrEnum):
    PENDING = "PENDING"
    APPROVED = "APPROVED"
    REJECTED = "REJECTED"
    CANCELLED = "CANCELLED"


RANK = {Status.PENDING: 0, Status.APPROVED: 1, Status.REJECTED: 1, Status.CANCELLED: 2}


@dataclass(frozen=True)
class Placed:
    order_id: str
    customer_id: str
    total_cents: int
    currency: str
    placed_at: datetime


@dataclass(frozen=True)
class Settled:
    """The order took a final status (``APPROVED``, ``REJECTED``, ``CANCELLED``)."""

    order_id: str
    customer_id: str
    status: Status
    reason: str | None
    total_cents: int
    currency: str
    updated_at: datetime


@dataclass(frozen=True)
class Charged:
    order_id: str
    cents: int


@dataclass(frozen=True)
class Refunded:
    order_id: str
    cents: int


@dataclass(frozen=True)
class PaymentFailed:
    order_id: str
    outcome: str


@dataclass(frozen=True)
class Notified:
    order_id: str
    kind: str


Fact = Placed | Settled | Charged | Refunded | PaymentFailed | Notified


@dataclass(frozen=True)
class OrderHistory:
    order_id: str
    customer_id: str | None = None
    status: Status = Status.PENDING
    reason: str | None = None
    total_cents: int | None = None
    currency: str | None = None
    created_at: datetime | None = None
    updated_at: datetime | None = None
    charged_cents: int = 0
    refunded_cents: int = 0
    payment_failure: str | None = None
    notifications: frozenset[str] = frozenset()

    @property
    def listed(self) -> bool:
        """Shown in the customer's list once its placement is known."""
        return self.created_at is not None and self.customer_id is not None


def apply(entry: OrderHistory | None, fact: Fact) -> OrderHistory:
    """``entry`` (``None``: not seen yet) with ``fact`` merged in."""
    entry = entry or OrderHistory(fact.order_id)
    match fact:
        case Placed():
            return _placed(entry, fact)
        case Settled():
            return _settled(entry, fact)
        case Charged():
            return replace(entry, charged_cents=max(entry.charged_cents, fact.cents))
        case Refunded():
            return replace(entry, refunded_cents=max(entry.refunded_cents, fact.cents))
        case PaymentFailed():
            failure = max(filter(None, (entry.payment_failure, fact.outcome)))
            return replace(entry, payment_failure=failure)
        case Notified():
            return replace(entry, notifications=entry.notifications | {fact.kind})


def _placed(entry: OrderHistory, fact: Placed) -> OrderHistory:
    updated_at = fact.placed_at if entry.status is Status.PENDING else entry.updated_at
    return replace(
        entry,
        customer_id=fact.customer_id,
        total_cents=fact.total_cents,
        currency=fact.currency,
        created_at=fact.placed_at,
        updated_at=updated_at,
    )


def _settled(entry: OrderHistory, fact: Settled) -> OrderHistory:
    known = replace(
        entry,
        customer_id=entry.customer_id or fact.customer_id,
        total_cents=fact.total_cents if entry.total_cents is None else entry.total_cents,
        currency=entry.currency or fact.currency,
    )
    if not _overtakes(entry, fact):
        return known
    return replace(known, status=fact.status, reason=fact.reason, updated_at=fact.updated_at)


def _overtakes(entry: OrderHistory, fact: Settled) -> bool:
    """A higher rank wins; two facts of one rank (never both in a real run) tie-break
    on their contents, so the winner does not depend on which came first."""
    if RANK[fact.status] != RANK[entry.status]:
        return RANK[fact.status] > RANK[entry.status]
    if entry.status is Status.PENDING:
        return False
    mine = (entry.updated_at, entry.status.value, entry.reason or "")
    theirs = (fact.updated_at, fact.status.value, fact.reason or "")
    return theirs > mine
