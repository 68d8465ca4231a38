"""The notifications service: tells customers the outcome of their orders."""

from shoplab.notifications.bootstrap import NotificationsContext
from shoplab.notifications.entrypoints.grpc_api import SERVICE
from shoplab.platform.host import ServiceHost, ServiceParts
from shoplab.services.allow_list import callers_of


def build(host: ServiceHost) -> ServiceParts:
    notifications = NotificationsContext(host.database)
    return ServiceParts(
        routers=[notifications.router(host.auth)],
        grpc_services=[notifications.grpc_service()],
        grpc_callers=callers_of(SERVICE),
        subscriptions=notifications.subscriptions(),
        outboxes=[notifications.outbox],
        start=notifications.migrate,
    )
