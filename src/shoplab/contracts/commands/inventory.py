"""Commands the inventory context accepts; each is idempotent per order."""

from typing import ClassVar

from pydantic import Field

from shoplab.contracts.envelope import Message


class InventoryCommand(Message):
    context: ClassVar[str] = "inventory"
    kind: ClassVar[str] = "commands"

    order_id: str


class ReserveStock(InventoryCommand):
    """Hold every line or none. Answered by ``StockReserved`` or ``StockReservationFailed``."""

    lines: dict[str, int] = Field(min_length=1)


class CommitStock(InventoryCommand):
    """The order is approved: its held stock leaves for good. Answered by ``StockCommitted``."""


class ReleaseStock(InventoryCommand):
    """The order failed: free what it holds, and refuse a reservation that arrives later.

    Answered by ``StockReleased``.
    """


class ReturnStock(InventoryCommand):
    """The approved order was cancelled: its stock goes back. Answered by ``StockReturned``."""
