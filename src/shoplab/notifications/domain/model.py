"""Notifications: one message to the customer per final outcome of an order."""

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from shoplab.platform.errors import NotFound


class NotificationKind(StrEnum):
    ORDER_APPROVED = "ORDER_APPROVED"
    ORDER_REJECTED = "ORDER_REJECTED"
    ORDER_CANCELLED = "ORDER_CANCELLED"


SUBJECTS = {
    NotificationKind.ORDER_APPROVED: "Your order {order_id} is confirmed",
    NotificationKind.ORDER_REJECTED: "Your order {order_id} could not be completed",
    NotificationKind.ORDER_CANCELLED: "Your order {order_id} is cancelled and refunded",
}


class RecipientUnknown(NotFound):
    """The customer's registration has not reached us yet: retry the message later."""

    def __init__(self, customer_id: str) -> None:
        super().__init__(f"No contact is known for customer {customer_id!r} yet.")


@dataclass(frozen=True)
class Contact:
    customer_id: str
    email: str
    name: str


@dataclass(frozen=True)
class Notification:
    kind: NotificationKind
    order_id: str
    recipient: str
    sent_at: datetime

    @property
    def subject(self) -> str:
        return SUBJECTS[self.kind].format(order_id=self.order_id)
