"""The notifications unit of work: the ports of its storage, and their SQL implementation.

The use cases see ``NotificationsUnitOfWork`` with its contacts and its log of
notifications; ``SqlNotificationsUnitOfWork`` implements them with the inbox and
the outbox.
"""

from typing import Protocol

from shoplab.notifications.adapters import tables
from shoplab.notifications.adapters.repository import SqlContactRepository, SqlNotificationLog
from shoplab.notifications.domain.model import Contact, Notification
from shoplab.platform.persistence.sql import Sql
from shoplab.platform.persistence.unit_of_work import SqlUnitOfWork, UnitOfWorkWithOutbox


class ContactRepository(Protocol):
    async def get(self, customer_id: str) -> Contact | None: ...

    async def add(self, contact: Contact) -> None: ...


class NotificationLog(Protocol):
    async def add(self, notification: Notification) -> None: ...

    async def for_order(self, order_id: str) -> list[Notification]:
        """The order's notifications, in the order they were recorded."""
        ...


class NotificationsUnitOfWork(UnitOfWorkWithOutbox, Protocol):
    contacts: ContactRepository
    notifications: NotificationLog


class SqlNotificationsUnitOfWork(SqlUnitOfWork, NotificationsUnitOfWork):
    inbox = tables.inbox
    outbox = tables.outbox
    contacts: SqlContactRepository
    notifications: SqlNotificationLog

    def bind(self, sql: Sql) -> None:
        self.contacts = SqlContactRepository(sql)
        self.notifications = SqlNotificationLog(sql)
