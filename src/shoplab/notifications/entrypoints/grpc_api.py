"""Notifications' gRPC answers to other services (microservices mode): what the administrators'
route reads, from the same query, under the ``shoplab.notifications.v1`` contract."""

from collections.abc import Callable

import grpc.aio
from google.protobuf.timestamp_pb2 import Timestamp
from typing_extensions import override

from shoplab.contracts.grpc.notifications.v1 import notifications_pb2, notifications_pb2_grpc
from shoplab.contracts.grpc.notifications.v1.notifications_pb2 import (
    ListForOrderRequest,
    ListForOrderResponse,
)
from shoplab.notifications.domain.model import Notification, NotificationKind
from shoplab.notifications.service_layer.queries import notifications_for
from shoplab.notifications.service_layer.unit_of_work import NotificationsUnitOfWork
from shoplab.platform.grpc.server import GrpcService

SERVICE = notifications_pb2.DESCRIPTOR.services_by_name["Notifications"].full_name

KINDS = {
    NotificationKind.ORDER_APPROVED: notifications_pb2.NOTIFICATION_KIND_ORDER_APPROVED,
    NotificationKind.ORDER_REJECTED: notifications_pb2.NOTIFICATION_KIND_ORDER_REJECTED,
    NotificationKind.ORDER_CANCELLED: notifications_pb2.NOTIFICATION_KIND_ORDER_CANCELLED,
}
"""Spelled out, so that a new domain kind fails here (KeyError) until the contract has it."""


class NotificationsServicer(notifications_pb2_grpc.NotificationsServicer):
    def __init__(self, new_uow: Callable[[], NotificationsUnitOfWork]) -> None:
        self._new_uow = new_uow

    @override
    async def ListForOrder(
        self,
        request: ListForOrderRequest,
        context: grpc.aio.ServicerContext[ListForOrderRequest, ListForOrderResponse],
    ) -> ListForOrderResponse:
        sent = await notifications_for(self._new_uow(), request.order_id)
        return ListForOrderResponse(items=[_message(notification) for notification in sent])


def _message(notification: Notification) -> notifications_pb2.Notification:
    sent_at = Timestamp()
    sent_at.FromDatetime(notification.sent_at)
    return notifications_pb2.Notification(
        kind=KINDS[notification.kind],
        order_id=notification.order_id,
        recipient=notification.recipient,
        sent_at=sent_at,
    )


def grpc_service(new_uow: Callable[[], NotificationsUnitOfWork]) -> GrpcService:
    servicer = NotificationsServicer(new_uow)
    return GrpcService(
        SERVICE,
        lambda server: notifications_pb2_grpc.add_NotificationsServicer_to_server(servicer, server),
    )
