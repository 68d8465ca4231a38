"""Reading a context's events as a log: from any position, again and again.

A queue forgets a message once it is acknowledged; a log keeps it (within its
retention limits), so a reader can start from the first message still kept,
stop, and come back later to where it was. Read models need the log: the order
history stores the position it has applied up to in the same transaction as its
view, and a rebuild empties the view and reads again from position 0.

Implementations: JetStream streams (NATS) and RabbitMQ streams.
"""

from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from shoplab.contracts.envelope import Envelope


@dataclass(frozen=True)
class LoggedEvent:
    """One event as the log keeps it."""

    source: str
    """The context that published it (``orders``, ``payments``...)."""
    position: int
    """Its place in the source's log, from 1 and increasing (gaps allowed)."""
    stored_at: datetime
    """When the log stored it (UTC)."""
    envelope: Envelope
    pending: int | None
    """How many events of the source the log holds after this one, when it knows."""


@dataclass(frozen=True)
class LogHead:
    """The newest event of a source that the log keeps."""

    position: int
    stored_at: datetime


class EventLog(Protocol):
    """The events of several contexts, each readable from any position."""

    async def start(self) -> None: ...

    async def stop(self) -> None: ...

    def read(self, source: str, after: int) -> AsyncIterator[LoggedEvent]:
        """The events of ``source`` after position ``after``, then each new one as it is
        stored: the iteration does not end. Position 0 reads from the first event kept."""
        ...

    async def head(self, source: str) -> LogHead | None:
        """The newest event of ``source`` kept, or ``None`` when the log holds none: a reader
        whose position has reached it is caught up."""
        ...
