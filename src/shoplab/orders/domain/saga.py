"""The saga vocabulary both styles share: steps, states, history lines and decisions.

An order is settled by a saga in one of two styles (``SHOPLAB_SAGA``):

- **orchestration** (``orchestration.py``): the orders service sends one command at
  a time and advances on the participants' answers;
- **choreography** (``choreography.py``): no one commands; each participant reacts
  to the others' events, and orders settles the order from the facts it sees.

Both decide in the same words, so the admin view and the tests read both alike.
"""

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from shoplab.orders.domain.model import OrderStatus, Reason


class Step(StrEnum):
    RESERVE_STOCK = "RESERVE_STOCK"
    CHARGE_PAYMENT = "CHARGE_PAYMENT"
    COMMIT_STOCK = "COMMIT_STOCK"
    RELEASE_STOCK = "RELEASE_STOCK"
    VOID_PAYMENT = "VOID_PAYMENT"
    REFUND_PAYMENT = "REFUND_PAYMENT"
    RETURN_STOCK = "RETURN_STOCK"


class SagaState(StrEnum):
    RESERVING_STOCK = "RESERVING_STOCK"
    CHARGING_PAYMENT = "CHARGING_PAYMENT"
    COMMITTING_STOCK = "COMMITTING_STOCK"
    RELEASING_STOCK = "RELEASING_STOCK"
    APPROVED = "APPROVED"
    REJECTED = "REJECTED"
    REFUNDING_PAYMENT = "REFUNDING_PAYMENT"
    RETURNING_STOCK = "RETURNING_STOCK"
    CANCELLED = "CANCELLED"


@dataclass(frozen=True)
class StepRecord:
    """One line of the saga's history, as the admin view shows it."""

    name: str
    status: str
    at: datetime


@dataclass(frozen=True)
class Decision:
    """What to do after a transition: commands to send, and the order's new status."""

    send: tuple[Step, ...] = ()
    settle: OrderStatus | None = None
    reason: Reason | None = None


NOTHING = Decision()
