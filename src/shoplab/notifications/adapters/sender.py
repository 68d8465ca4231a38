"""A sender that writes the message to the log instead of an email server."""

import structlog

from shoplab.notifications.domain.model import Notification

log = structlog.get_logger(__name__)


class LogSender:
    async def send(self, notification: Notification) -> None:
        log.info(
            "notification sent",
            to=notification.recipient,
            subject=notification.subject,
            order_id=notification.order_id,
        )
