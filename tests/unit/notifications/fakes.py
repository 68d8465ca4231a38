"""Notifications' ports in memory: its unit of work and a sender that keeps what it sent."""

from shoplab.notifications.domain.model import Contact, Notification
from shoplab.notifications.service_layer.ports import Sender
from shoplab.notifications.service_layer.unit_of_work import (
    ContactRepository,
    NotificationLog,
    NotificationsUnitOfWork,
)

from ..fakes import FakeRepository, FakeUnitOfWork


class FakeContactRepository(FakeRepository[Contact], ContactRepository):
    async def get(self, customer_id: str) -> Contact | None:
        return self._get(customer_id)

    async def add(self, contact: Contact) -> None:
        self._insert(contact.customer_id, contact)


class FakeNotificationLog(FakeRepository[Notification], NotificationLog):
    async def add(self, notification: Notification) -> None:
        self._insert(str(len(self.rows)), notification)

    async def for_order(self, order_id: str) -> list[Notification]:
        return [sent for sent in self._all() if sent.order_id == order_id]


class FakeNotificationsUnitOfWork(FakeUnitOfWork, NotificationsUnitOfWork):
    contacts: FakeContactRepository
    notifications: FakeNotificationLog

    def __init__(self) -> None:
        self.contacts = FakeContactRepository()
        self.notifications = FakeNotificationLog()
        super().__init__(self.contacts, self.notifications)


class FakeSender(Sender):
    def __init__(self) -> None:
        self.sent: list[Notification] = []

    async def send(self, notification: Notification) -> None:
        self.sent.append(notification)
