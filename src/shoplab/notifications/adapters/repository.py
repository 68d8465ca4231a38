"""Contacts and sent notifications in SQL."""

from shoplab.notifications.domain.model import Contact, Notification, NotificationKind
from shoplab.platform.persistence.sql import Sql

CONTACT = (
    "SELECT customer_id, email, name FROM notifications_contacts WHERE customer_id = :customer_id"
)
ADD_CONTACT = (
    "INSERT INTO notifications_contacts (customer_id, email, name)"
    " VALUES (:customer_id, :email, :name)"
)
ADD_SENT = (
    "INSERT INTO notifications_sent (order_id, kind, recipient, sent_at)"
    " VALUES (:order_id, :kind, :recipient, :sent_at)"
)
SENT_FOR_ORDER = (
    "SELECT kind, order_id, recipient, sent_at FROM notifications_sent"
    " WHERE order_id = :order_id ORDER BY id"
)


class SqlContactRepository:
    def __init__(self, sql: Sql) -> None:
        self._sql = sql

    async def get(self, customer_id: str) -> Contact | None:
        row = await self._sql.one(CONTACT, {"customer_id": customer_id})
        return Contact(row.customer_id, row.email, row.name) if row else None

    async def add(self, contact: Contact) -> None:
        await self._sql.execute(
            ADD_CONTACT,
            {"customer_id": contact.customer_id, "email": contact.email, "name": contact.name},
        )


class SqlNotificationLog:
    def __init__(self, sql: Sql) -> None:
        self._sql = sql

    async def add(self, notification: Notification) -> None:
        await self._sql.execute(
            ADD_SENT,
            {
                "order_id": notification.order_id,
                "kind": notification.kind.value,
                "recipient": notification.recipient,
                "sent_at": notification.sent_at,
            },
        )

    async def for_order(self, order_id: str) -> list[Notification]:
        rows = await self._sql.all(SENT_FOR_ORDER, {"order_id": order_id})
        return [
            Notification(NotificationKind(row.kind), row.order_id, row.recipient, row.sent_at)
            for row in rows
        ]
