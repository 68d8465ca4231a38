"""What joins the contexts in the monolith: orders' ports answered inside the order's transaction.

Each adapter calls the other context's bootstrap *joined* to the session of the order's
transaction: the order, the stock reservation and the payment commit or roll back together,
while each context still reads and writes only its own tables. In the microservices mode
the same ports are answered over gRPC and by a saga (``orders/adapters/remote.py``).
"""

from sqlalchemy.ext.asyncio import AsyncSession

from shoplab.catalog.bootstrap import CatalogContext
from shoplab.inventory.bootstrap import InventoryContext
from shoplab.orders.bootstrap import PartnersOf
from shoplab.orders.service_layer.ports import Partners, PaymentResult, Price
from shoplab.payments.bootstrap import PaymentsContext


class CatalogPrices:
    """Orders' ``PriceList``."""

    def __init__(self, catalog: CatalogContext, session: AsyncSession) -> None:
        self._catalog, self._session = catalog, session

    async def prices(self, skus: list[str]) -> dict[str, Price]:
        products = await self._catalog.prices(skus, join=self._session)
        return {sku: Price(p.price_cents, p.currency) for sku, p in products.items()}


class InventoryReservations:
    """Orders' ``StockReservations``."""

    def __init__(self, inventory: InventoryContext, session: AsyncSession) -> None:
        self._inventory, self._session = inventory, session

    async def reserve(self, order_id: str, quantities: dict[str, int]) -> bool:
        return await self._inventory.reserve(order_id, quantities, join=self._session)

    async def commit(self, order_id: str) -> None:
        await self._inventory.commit_reservation(order_id, join=self._session)

    async def release(self, order_id: str) -> None:
        await self._inventory.release_reservation(order_id, join=self._session)

    async def return_stock(self, order_id: str) -> None:
        await self._inventory.return_stock(order_id, join=self._session)


class PaymentsInProcess:
    """Orders' ``PaymentMethods`` and ``Payments``."""

    def __init__(self, payments: PaymentsContext, session: AsyncSession) -> None:
        self._payments, self._session = payments, session

    async def accepts(self, method: str) -> bool:
        return await self._payments.accepts(method)

    async def charge(
        self, order_id: str, amount_cents: int, currency: str, method: str
    ) -> PaymentResult:
        outcome = await self._payments.charge(
            order_id, amount_cents, currency, method, join=self._session
        )
        return PaymentResult(outcome.value)

    async def refund(self, order_id: str) -> None:
        await self._payments.refund(order_id, join=self._session)


def partners(
    catalog: CatalogContext, inventory: InventoryContext, payments: PaymentsContext
) -> PartnersOf:
    """Orders' partners for one transaction, joined to its session."""

    def joined(session: AsyncSession) -> Partners:
        money = PaymentsInProcess(payments, session)
        return Partners(
            prices=CatalogPrices(catalog, session),
            methods=money,
            stock=InventoryReservations(inventory, session),
            payments=money,
        )

    return joined
