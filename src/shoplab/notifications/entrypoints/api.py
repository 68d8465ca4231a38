"""Notifications' REST endpoints: what the administrators may read."""

from collections.abc import Callable
from typing import Annotated

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel

from shoplab.contracts.views import NotificationView
from shoplab.notifications.domain.model import Notification
from shoplab.notifications.service_layer.queries import notifications_for
from shoplab.notifications.service_layer.unit_of_work import NotificationsUnitOfWork
from shoplab.platform.auth import Authenticator, Principal


def notification_view(notification: Notification) -> NotificationView:
    return NotificationView(
        kind=notification.kind.value,
        order_id=notification.order_id,
        recipient=notification.recipient,
        sent_at=notification.sent_at,
    )


class NotificationList(BaseModel):
    """Notifications, oldest first."""

    items: list[NotificationView]


def build_router(new_uow: Callable[[], NotificationsUnitOfWork], auth: Authenticator) -> APIRouter:
    router = APIRouter(prefix="/api/admin/notifications", tags=["administration"])

    @router.get("")
    async def notifications_for_order(
        order_id: Annotated[str, Query(max_length=64)],
        _admin: Annotated[Principal, Depends(auth.admin)],
    ) -> NotificationList:
        """The notifications sent about an order, oldest first."""
        sent = await notifications_for(new_uow(), order_id)
        return NotificationList(items=[notification_view(item) for item in sent])

    return router
