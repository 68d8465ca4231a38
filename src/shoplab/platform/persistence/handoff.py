"""Committed outbox rows handed to the relay in memory, so that it need not look for them.

A unit of work that wrote outbox rows hands them over right after its COMMIT (never
before, never after a rollback); the relay takes them in commit order and publishes the
stored bytes. The table stays the truth: every row handed over is also in it, and a row
that never reaches the relay (no relay listens in this process, the process crashed, the
queue was full) is found by the relay's recovery poll.
"""

import asyncio
from collections import deque
from dataclasses import dataclass

from shoplab.contracts.envelope import Envelope

LIMIT = 100_000
"""Rows held at most; past it the rest wait in their table for the recovery poll."""


@dataclass(frozen=True, slots=True)
class CommittedMessage:
    """One committed outbox row: where it is, what it says, and the text it stores."""

    table: str
    position: int
    envelope: Envelope
    body: str
    """The row's ``envelope`` column, the JSON text published as it is."""


class Handoff:
    """The rows committed since the relay last took them; one relay takes them."""

    def __init__(self) -> None:
        self._rows: deque[CommittedMessage] = deque()
        self._listening = False
        self.arrived = asyncio.Event()
        self.overflowed = False
        """Rows were left out: the relay should poll its tables soon."""

    def open(self) -> None:
        """A relay listens: rows committed from now on are handed to it."""
        self._listening = True

    def close(self) -> None:
        """No relay listens: committed rows wait in their tables, not in memory."""
        self._listening = False
        self._rows.clear()

    def put(self, rows: list[CommittedMessage]) -> None:
        """Hand over the rows of a transaction that has just committed."""
        if not self._listening:
            return
        if len(self._rows) + len(rows) > LIMIT:
            self.overflowed = True
        else:
            self._rows.extend(rows)
        self.arrived.set()

    def take(self, limit: int) -> list[CommittedMessage]:
        """Up to ``limit`` rows, oldest first."""
        rows = self._rows
        if len(rows) <= limit:
            taken = list(rows)
            rows.clear()
            return taken
        return [rows.popleft() for _ in range(limit)]

    def queued(self, table: str) -> set[int]:
        """The positions of ``table`` still waiting here (the recovery poll leaves them)."""
        return {row.position for row in self._rows if row.table == table}

    def __len__(self) -> int:
        return len(self._rows)
