"""Read-side queries of the notifications context."""

from shoplab.notifications.domain.model import Notification
from shoplab.notifications.service_layer.unit_of_work import NotificationsUnitOfWork


async def notifications_for(uow: NotificationsUnitOfWork, order_id: str) -> list[Notification]:
    async with uow.read_only():
        return await uow.notifications.for_order(order_id)
