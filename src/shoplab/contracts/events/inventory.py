"""Events published by the inventory context, in answer to its commands."""

from typing import ClassVar

from shoplab.contracts.envelope import Message


class InventoryEvent(Message):
    context: ClassVar[str] = "inventory"

    order_id: str


class StockReserved(InventoryEvent):
    """Every line of the order is held."""


class StockReservationFailed(InventoryEvent):
    """Nothing is held: a line was short, unknown, or the order was released already."""

    reason: str


class StockCommitted(InventoryEvent):
    """The held stock left for good."""


class StockReleased(InventoryEvent):
    """Nothing is held for the order any more."""


class StockReturned(InventoryEvent):
    """The stock of a cancelled order is back on hand."""
