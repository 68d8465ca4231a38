"""Events published by the notifications context."""

from datetime import datetime
from typing import ClassVar

from shoplab.contracts.envelope import Message


class NotificationSent(Message):
    """A customer was told about an order (``notification_kind``: ``ORDER_APPROVED``,
    ``ORDER_REJECTED``, ``ORDER_CANCELLED``); published in the transaction that records it."""

    context: ClassVar[str] = "notifications"

    order_id: str
    notification_kind: str
    recipient: str
    sent_at: datetime
