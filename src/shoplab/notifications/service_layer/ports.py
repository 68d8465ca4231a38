"""What notifications needs from outside: a way to deliver a message."""

from typing import Protocol

from shoplab.notifications.domain.model import Notification


class Sender(Protocol):
    async def send(self, notification: Notification) -> None: ...
