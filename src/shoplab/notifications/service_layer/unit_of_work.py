"""The notifications unit of work, with its inbox and its outbox."""

from sqlalchemy.ext.asyncio import AsyncSession

from shoplab.notifications.adapters import tables
from shoplab.notifications.adapters.repository import SqlContactRepository, SqlNotificationLog
from shoplab.platform.persistence.unit_of_work import SqlUnitOfWork


class NotificationsUnitOfWork(SqlUnitOfWork):
    inbox = tables.inbox
    outbox = tables.outbox
    contacts: SqlContactRepository
    notifications: SqlNotificationLog

    def bind(self, session: AsyncSession) -> None:
        self.contacts = SqlContactRepository(session)
        self.notifications = SqlNotificationLog(session)
