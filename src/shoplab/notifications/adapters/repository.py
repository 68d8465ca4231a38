"""Contacts and sent notifications in SQL."""

from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from shoplab.notifications.adapters.tables import contacts, sent
from shoplab.notifications.domain.model import Contact, Notification, NotificationKind
from shoplab.platform.time import utc


class SqlContactRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def get(self, customer_id: str) -> Contact | None:
        row = (
            await self._session.execute(
                select(contacts).where(contacts.c.customer_id == customer_id)
            )
        ).first()
        return Contact(row.customer_id, row.email, row.name) if row else None

    async def add(self, contact: Contact) -> None:
        await self._session.execute(
            insert(contacts).values(
                customer_id=contact.customer_id, email=contact.email, name=contact.name
            )
        )


class SqlNotificationLog:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def add(self, notification: Notification) -> None:
        await self._session.execute(
            insert(sent),
            {
                "order_id": notification.order_id,
                "kind": notification.kind.value,
                "recipient": notification.recipient,
                "sent_at": notification.sent_at,
            },
        )

    async def for_order(self, order_id: str) -> list[Notification]:
        rows = await self._session.execute(
            select(sent).where(sent.c.order_id == order_id).order_by(sent.c.id)
        )
        return [
            Notification(NotificationKind(row.kind), row.order_id, row.recipient, utc(row.sent_at))
            for row in rows
        ]
