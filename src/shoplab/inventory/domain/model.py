"""Stock levels and the reservations that hold stock for an order.

``available = on_hand - reserved``. A reservation holds stock for one order,
all lines or none; it then ends one way: ``commit`` (the stock leaves for good),
``release`` (the order failed: stock back to available), or, after a commit,
``return_stock`` (the order was cancelled: stock back on hand). Each transition
is idempotent, so a repeated command changes nothing twice.
"""

from dataclasses import dataclass
from enum import StrEnum

from shoplab.platform.errors import Conflict, InvalidInput, NotFound

MAX_ON_HAND = 1_000_000


class UnknownSku(NotFound):
    def __init__(self, sku: str) -> None:
        super().__init__(f"No stock is kept for sku {sku!r}.")


class OutOfStock(Conflict):
    def __init__(self, sku: str) -> None:
        super().__init__(f"Not enough stock of {sku!r}.")
        self.sku = sku


class InvalidStockLevel(InvalidInput):
    pass


@dataclass
class StockItem:
    sku: str
    on_hand: int
    reserved: int = 0

    @property
    def available(self) -> int:
        return self.on_hand - self.reserved

    def count(self, on_hand: int) -> None:
        """Set the counted quantity; it may not drop below what is reserved."""
        if not 0 <= on_hand <= MAX_ON_HAND:
            raise InvalidStockLevel(f"on_hand must be between 0 and {MAX_ON_HAND}.")
        if on_hand < self.reserved:
            raise InvalidStockLevel(f"{self.reserved} units of {self.sku!r} are reserved.")
        self.on_hand = on_hand


class ReservationStatus(StrEnum):
    HELD = "HELD"
    COMMITTED = "COMMITTED"
    RELEASED = "RELEASED"
    RETURNED = "RETURNED"


@dataclass
class Reservation:
    order_id: str
    lines: dict[str, int]
    status: ReservationStatus = ReservationStatus.HELD

    @classmethod
    def hold(
        cls, order_id: str, lines: dict[str, int], items: dict[str, StockItem]
    ) -> "Reservation":
        """Reserve every line or none: raises ``OutOfStock`` naming the first short sku."""
        for sku, quantity in sorted(lines.items()):
            if sku not in items:
                raise UnknownSku(sku)
            if items[sku].available < quantity:
                raise OutOfStock(sku)
        for sku, quantity in lines.items():
            items[sku].reserved += quantity
        return cls(order_id=order_id, lines=dict(lines))

    @classmethod
    def refused(cls, order_id: str) -> "Reservation":
        """A reservation that was refused, or a release that arrived before it.

        Recorded as released with no lines, so that the reservation, if it is asked
        for again or arrives late, is refused instead of holding stock that nobody
        will release.
        """
        return cls(order_id=order_id, lines={}, status=ReservationStatus.RELEASED)

    def commit(self, items: dict[str, StockItem]) -> None:
        if self.status is ReservationStatus.HELD:
            for sku, quantity in self.lines.items():
                items[sku].reserved -= quantity
                items[sku].on_hand -= quantity
            self.status = ReservationStatus.COMMITTED

    def release(self, items: dict[str, StockItem]) -> None:
        if self.status is ReservationStatus.HELD:
            for sku, quantity in self.lines.items():
                items[sku].reserved -= quantity
            self.status = ReservationStatus.RELEASED

    def return_stock(self, items: dict[str, StockItem]) -> None:
        if self.status is ReservationStatus.COMMITTED:
            for sku, quantity in self.lines.items():
                items[sku].on_hand += quantity
            self.status = ReservationStatus.RETURNED
