"""The order aggregate: its lines, its total, and the life of its status.

A placement starts ``PENDING`` and ends ``APPROVED`` or ``REJECTED``; only an
``APPROVED`` order can be ``CANCELLED``. Every final transition records a
domain event, which the service layer turns into an integration event.
"""

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

from shoplab.orders.domain.events import DomainEvent, OrderApproved, OrderCancelled, OrderRejected
from shoplab.platform.errors import Conflict, InvalidInput, NotFound

MAX_LINES = 20
MAX_QUANTITY = 100


class OrderStatus(StrEnum):
    PENDING = "PENDING"
    APPROVED = "APPROVED"
    REJECTED = "REJECTED"
    CANCELLED = "CANCELLED"


class Reason(StrEnum):
    OUT_OF_STOCK = "OUT_OF_STOCK"
    PAYMENT_DECLINED = "PAYMENT_DECLINED"
    INSUFFICIENT_FUNDS = "INSUFFICIENT_FUNDS"
    PAYMENT_UNAVAILABLE = "PAYMENT_UNAVAILABLE"
    CANCELLED_BY_CUSTOMER = "CANCELLED_BY_CUSTOMER"


class InvalidOrder(InvalidInput):
    pass


class OrderNotFound(NotFound):
    def __init__(self, order_id: str) -> None:
        super().__init__(f"No order {order_id!r} was found.")


class NotCancellable(Conflict):
    def __init__(self, status: OrderStatus) -> None:
        super().__init__(f"Only an APPROVED order can be cancelled; this one is {status}.")


@dataclass(frozen=True)
class Price:
    """What one unit of a sku costs, as the catalog answers when the order is placed."""

    unit_price_cents: int
    currency: str


@dataclass(frozen=True)
class OrderLine:
    sku: str
    quantity: int
    unit_price_cents: int

    @property
    def total_cents(self) -> int:
        return self.quantity * self.unit_price_cents


@dataclass
class Order:
    order_id: str
    customer_id: str
    lines: list[OrderLine]
    currency: str
    created_at: datetime
    updated_at: datetime
    status: OrderStatus = OrderStatus.PENDING
    reason: Reason | None = None
    events: list[DomainEvent] = field(default_factory=list, repr=False, compare=False)

    @classmethod
    def place(
        cls,
        order_id: str,
        customer_id: str,
        lines: list[OrderLine],
        currency: str,
        now: datetime,
    ) -> "Order":
        _check_lines(lines)
        return cls(order_id, customer_id, list(lines), currency, created_at=now, updated_at=now)

    @property
    def total_cents(self) -> int:
        return sum(line.total_cents for line in self.lines)

    def quantities(self) -> dict[str, int]:
        return {line.sku: line.quantity for line in self.lines}

    def approve(self, now: datetime) -> None:
        self._settle(OrderStatus.APPROVED, None, now)
        self.events.append(OrderApproved(self.order_id))

    def reject(self, reason: Reason, now: datetime) -> None:
        self._settle(OrderStatus.REJECTED, reason, now)
        self.events.append(OrderRejected(self.order_id, reason.value))

    def cancel(self, now: datetime) -> None:
        if self.status is not OrderStatus.APPROVED:
            raise NotCancellable(self.status)
        self.status = OrderStatus.CANCELLED
        self.reason = Reason.CANCELLED_BY_CUSTOMER
        self.updated_at = now
        self.events.append(OrderCancelled(self.order_id, self.reason.value))

    def _settle(self, status: OrderStatus, reason: Reason | None, now: datetime) -> None:
        if self.status is not OrderStatus.PENDING:
            raise Conflict(f"Order {self.order_id} is {self.status} already.")
        self.status = status
        self.reason = reason
        self.updated_at = now


def _check_lines(lines: list[OrderLine]) -> None:
    if not 1 <= len(lines) <= MAX_LINES:
        raise InvalidOrder(f"An order has 1 to {MAX_LINES} lines.")
    if len({line.sku for line in lines}) != len(lines):
        raise InvalidOrder("Each sku may appear on one line only.")
    for line in lines:
        if not 1 <= line.quantity <= MAX_QUANTITY:
            raise InvalidOrder(f"A quantity is between 1 and {MAX_QUANTITY}.")
