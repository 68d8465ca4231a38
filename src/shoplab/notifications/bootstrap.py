"""The notifications context's bootstrap: its one face, for the monolith and for its service.

It tells customers the outcome of their orders, from the events of identity and orders
(its table of message handlers is below), in either mode.
"""

from fastapi import APIRouter

from shoplab.contracts.contexts import context_named
from shoplab.contracts.events import (
    CustomerRegistered,
    OrderApproved,
    OrderCancelled,
    OrderRejected,
)
from shoplab.contracts.views import NotificationView
from shoplab.notifications.adapters import tables
from shoplab.notifications.adapters.sender import LogSender
from shoplab.notifications.adapters.tables import MIGRATIONS
from shoplab.notifications.entrypoints import grpc_api
from shoplab.notifications.entrypoints.api import build_router, notification_view
from shoplab.notifications.service_layer.handlers import notify_outcome, remember_contact
from shoplab.notifications.service_layer.ports import Sender
from shoplab.notifications.service_layer.queries import notifications_for
from shoplab.notifications.service_layer.unit_of_work import SqlNotificationsUnitOfWork
from shoplab.platform.auth import Authenticator
from shoplab.platform.grpc.server import GrpcService
from shoplab.platform.host import ServiceHost, ServiceParts
from shoplab.platform.messaging.consumers import Subscription, idempotent_consumer
from shoplab.platform.persistence.database import Database, Transaction
from shoplab.platform.persistence.migrate import upgrade

NAME = "notifications"
OUTCOME_PATIENCE = 30
"""Deliveries of an order outcome before it is dead-lettered. An outcome can overtake the
customer's registration (they travel on different streams): with jittered backoff capped
at 30 s, thirty deliveries wait several minutes for the contact to arrive."""


class NotificationsContext:
    def __init__(self, database: Database, sender: Sender | None = None) -> None:
        self.database = database
        self.sender: Sender = sender or LogSender()
        self.outbox = tables.outbox
        """Where ``NotificationSent`` waits for the relay, in the notification's transaction."""

    def uow(self, *, join: Transaction | None = None) -> SqlNotificationsUnitOfWork:
        return SqlNotificationsUnitOfWork(self.database, join=join)

    async def migrate(self) -> None:
        await upgrade(self.database, MIGRATIONS)

    def subscriptions(self) -> list[Subscription]:
        """Every message this context consumes, and the handler of each."""
        notify = notify_outcome(self.sender)
        return [
            idempotent_consumer(
                "notifications.contacts", CustomerRegistered, self.uow, remember_contact
            ),
            *(
                idempotent_consumer(
                    f"notifications.{name}",
                    outcome,
                    self.uow,
                    notify,
                    max_deliveries=OUTCOME_PATIENCE,
                )
                for name, outcome in (
                    ("approved", OrderApproved),
                    ("rejected", OrderRejected),
                    ("cancelled", OrderCancelled),
                )
            ),
        ]

    def router(self, auth: Authenticator) -> APIRouter:
        return build_router(self.uow, auth)

    def grpc_service(self) -> GrpcService:
        """The notifications of an order for the gateway, over gRPC (microservices mode)."""
        return grpc_api.grpc_service(self.uow)

    async def notification_views(self, order_id: str) -> list[NotificationView]:
        """The messages sent about an order, as its endpoint shows them."""
        return [notification_view(item) for item in await notifications_for(self.uow(), order_id)]


def service(host: ServiceHost) -> ServiceParts:
    """The notifications service: tells customers the outcome of their orders."""
    notifications = NotificationsContext(host.database)
    return ServiceParts(
        routers=[notifications.router(host.auth)],
        grpc_services=[notifications.grpc_service()],
        grpc_callers={grpc_api.SERVICE: context_named(NAME).grpc_callers},
        subscriptions=notifications.subscriptions(),
        outboxes=[notifications.outbox],
        start=notifications.migrate,
    )
