"""The notifications service: tells customers the outcome of their orders."""

from shoplab.notifications.bootstrap import NotificationsContext
from shoplab.platform.service import ServiceHost, ServiceParts


def build(host: ServiceHost) -> ServiceParts:
    notifications = NotificationsContext(host.database)
    return ServiceParts(
        routers=[notifications.router(host.auth)],
        subscriptions=notifications.subscriptions(),
        start=notifications.migrate,
    )
