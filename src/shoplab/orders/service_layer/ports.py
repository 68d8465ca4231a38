"""What orders needs from the other contexts, as the orders context sees them.

The monolith implements these ports with in-process calls that join the order's
transaction; the microservices mode asks catalog and payments over the network
and settles every order with a saga.
"""

from dataclasses import dataclass, field
from enum import StrEnum
from typing import TYPE_CHECKING, Protocol

# A value of the domain, named here too: the adapters of ``PriceList`` answer with it.
from shoplab.orders.domain.model import Price as Price
from shoplab.orders.service_layer.admission import Admission

if TYPE_CHECKING:
    from shoplab.orders.domain.model import Order
    from shoplab.orders.service_layer.unit_of_work import OrdersUnitOfWork


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


class PaymentMethods(Protocol):
    async def accepts(self, method: str) -> bool: ...


class Payments(Protocol):
    async def charge(
        self, order_id: str, amount_cents: int, currency: str, method: str
    ) -> PaymentResult: ...

    async def refund(self, order_id: str) -> None: ...


class Settlement(Protocol):
    """How a new order reaches its final status, and how an approved one is undone."""

    async def settle(self, uow: "OrdersUnitOfWork", order: "Order", method: str) -> None:
        """Called before the new order is stored; may settle it at once or start a saga."""
        ...

    async def cancel(self, uow: "OrdersUnitOfWork", order: "Order") -> None:
        """Called with the order locked; raises ``NotCancellable`` unless it is approved."""
        ...


@dataclass(frozen=True)
class Collaborators:
    prices: PriceList
    methods: PaymentMethods
    settlement: Settlement
    admission: Admission = field(default_factory=lambda: Admission(bound=0))
    """Refuses a placement past the bound on placements in flight (``admission``)."""


@dataclass(frozen=True)
class Partners:
    """The other contexts as one order's transaction sees them in the modular monolith: each
    answers inside that transaction, so stock, payment and order commit or roll back together."""

    prices: PriceList
    methods: PaymentMethods
    stock: StockReservations
    payments: Payments
