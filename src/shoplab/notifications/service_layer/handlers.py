"""Message handlers: each takes one event and the unit of work; the caller commits.

They run inside the idempotent-consumer wrapper of the chassis, so a message
delivered twice records (and sends) one notification. Sending happens before
the commit: a crash between the two sends again on redelivery, which is the
at-least-once price of an external side effect. ``NotificationSent`` goes into
the outbox in the transaction that records the notification, so the order
history learns of every notification recorded, and of no other.
"""

from collections.abc import Awaitable, Callable

from shoplab.contracts.envelope import Envelope
from shoplab.contracts.events import (
    CustomerRegistered,
    OrderApproved,
    OrderCancelled,
    OrderRejected,
)
from shoplab.contracts.events.notifications import NotificationSent
from shoplab.contracts.events.orders import OrderOutcome
from shoplab.notifications.domain.model import (
    Contact,
    Notification,
    NotificationKind,
    RecipientUnknown,
)
from shoplab.notifications.service_layer.ports import Sender
from shoplab.notifications.service_layer.unit_of_work import NotificationsUnitOfWork
from shoplab.platform.time import now

KIND_BY_EVENT: dict[type[OrderOutcome], NotificationKind] = {
    OrderApproved: NotificationKind.ORDER_APPROVED,
    OrderRejected: NotificationKind.ORDER_REJECTED,
    OrderCancelled: NotificationKind.ORDER_CANCELLED,
}


async def remember_contact(
    event: CustomerRegistered, _envelope: Envelope, uow: NotificationsUnitOfWork
) -> None:
    """Keep our own copy of where to reach a customer."""
    if await uow.contacts.get(event.customer_id) is None:
        await uow.contacts.add(Contact(event.customer_id, event.email, event.name))


OutcomeHandler = Callable[[OrderOutcome, Envelope, NotificationsUnitOfWork], Awaitable[None]]


def notify_outcome(sender: Sender) -> OutcomeHandler:
    """The handler for the order outcome events, bound to a sender."""

    async def handle(event: OrderOutcome, envelope: Envelope, uow: NotificationsUnitOfWork) -> None:
        contact = await uow.contacts.get(event.customer_id)
        if contact is None:
            raise RecipientUnknown(event.customer_id)
        notification = Notification(
            KIND_BY_EVENT[type(event)], event.order_id, contact.email, now()
        )
        await sender.send(notification)
        await uow.notifications.add(notification)
        await uow.publish(
            NotificationSent(
                order_id=notification.order_id,
                notification_kind=notification.kind.value,
                recipient=notification.recipient,
                sent_at=notification.sent_at,
            ),
            correlation_id=event.order_id,
            causation_id=envelope.message_id,
        )

    return handle
