"""What joins the contexts in the monolith: orders' ports answered inside the order's transaction.

Each adapter of a port that *changes* something (stock, payment) calls the other context's
bootstrap *joined* to the order's transaction: the order, the stock reservation and the
payment commit or roll back together, while each context still reads and writes only its own
tables. The quote (prices, accepted methods) is asked before that transaction opens, as in
the microservices mode, so the order's writer never waits on it; it reads in the catalog's own
transaction. In the microservices mode the same ports are answered over gRPC and by a saga
(``orders/adapters/remote.py``).
"""

from shoplab.catalog.bootstrap import CatalogContext
from shoplab.inventory.bootstrap import InventoryContext
from shoplab.orders.bootstrap import PartnersOf
from shoplab.orders.service_layer.ports import Partners, PaymentResult, Price
from shoplab.payments.bootstrap import PaymentsContext
from shoplab.platform.persistence.unit_of_work import SqlUnitOfWork


class CatalogPrices:
    """Orders' ``PriceList``: the catalog's prices, read in a transaction of its own."""

    def __init__(self, catalog: CatalogContext) -> None:
        self._catalog = catalog

    async def prices(self, skus: list[str]) -> dict[str, Price]:
        products = await self._catalog.prices(skus)
        return {sku: Price(p.price_cents, p.currency) for sku, p in products.items()}


class InventoryReservations:
    """Orders' ``StockReservations``, joined to the transaction ``order`` has open."""

    def __init__(self, inventory: InventoryContext, order: SqlUnitOfWork) -> None:
        self._inventory, self._order = inventory, order

    async def reserve(self, order_id: str, quantities: dict[str, int]) -> bool:
        return await self._inventory.reserve(order_id, quantities, join=self._order.transaction)

    async def commit(self, order_id: str) -> None:
        await self._inventory.commit_reservation(order_id, join=self._order.transaction)

    async def release(self, order_id: str) -> None:
        await self._inventory.release_reservation(order_id, join=self._order.transaction)

    async def return_stock(self, order_id: str) -> None:
        await self._inventory.return_stock(order_id, join=self._order.transaction)


class PaymentsInProcess:
    """Orders' ``PaymentMethods`` and ``Payments``, joined to the transaction ``order`` has open."""

    def __init__(self, payments: PaymentsContext, order: SqlUnitOfWork) -> None:
        self._payments, self._order = payments, order

    async def accepts(self, method: str) -> bool:
        return await self._payments.accepts(method)

    async def charge(
        self, order_id: str, amount_cents: int, currency: str, method: str
    ) -> PaymentResult:
        outcome = await self._payments.charge(
            order_id, amount_cents, currency, method, join=self._order.transaction
        )
        return PaymentResult(outcome.value)

    async def refund(self, order_id: str) -> None:
        await self._payments.refund(order_id, join=self._order.transaction)


def partners(
    catalog: CatalogContext, inventory: InventoryContext, payments: PaymentsContext
) -> PartnersOf:
    """Orders' partners for one order's unit of work: joined to its transaction once open."""
    prices = CatalogPrices(catalog)

    def joined(order: SqlUnitOfWork) -> Partners:
        money = PaymentsInProcess(payments, order)
        return Partners(
            prices=prices,
            methods=money,
            stock=InventoryReservations(inventory, order),
            payments=money,
        )

    return joined
