"""What orders needs from the other contexts, as the orders context sees them.

The monolith implements these ports with in-process calls that join the order's
transaction; the services will implement them with remote calls and a saga.
"""

from dataclasses import dataclass
from enum import StrEnum
from typing import Protocol


@dataclass(frozen=True)
class Price:
    unit_price_cents: int
    currency: str


class PaymentResult(StrEnum):
    CHARGED = "CHARGED"
    DECLINED = "DECLINED"
    INSUFFICIENT_FUNDS = "INSUFFICIENT_FUNDS"


class PriceList(Protocol):
    async def prices(self, skus: list[str]) -> dict[str, Price]:
        """Current prices; unknown skus are absent from the answer."""
        ...


class StockReservations(Protocol):
    async def reserve(self, order_id: str, quantities: dict[str, int]) -> bool:
        """Hold stock for all lines or none; False when any line is short."""
        ...

    async def commit(self, order_id: str) -> None: ...

    async def release(self, order_id: str) -> None: ...

    async def return_stock(self, order_id: str) -> None: ...


class Payments(Protocol):
    def accepts(self, method: str) -> bool: ...

    async def charge(
        self, order_id: str, amount_cents: int, currency: str, method: str
    ) -> PaymentResult: ...

    async def refund(self, order_id: str) -> None: ...


@dataclass(frozen=True)
class Collaborators:
    prices: PriceList
    stock: StockReservations
    payments: Payments
