"""In-process implementations of the ports one context declares and another fulfils.

Each adapter opens the other context's own unit of work *joined* to the caller's
session: the order, the stock reservation and the payment commit or roll back
together, while each context still reads and writes only its own tables.
"""

from sqlalchemy.ext.asyncio import AsyncSession

from shoplab.catalog.bootstrap import CatalogContext
from shoplab.catalog.service_layer import services as catalog
from shoplab.inventory.bootstrap import InventoryContext
from shoplab.inventory.domain.model import UnknownSku
from shoplab.inventory.service_layer import services as inventory
from shoplab.inventory.service_layer.unit_of_work import InventoryUnitOfWork
from shoplab.orders.service_layer.ports import Collaborators, PaymentResult, Price
from shoplab.orders.service_layer.services import Connect
from shoplab.orders.service_layer.settle_in_transaction import SettleInTransaction
from shoplab.orders.service_layer.unit_of_work import SqlOrdersUnitOfWork
from shoplab.payments.bootstrap import PaymentsContext
from shoplab.payments.service_layer import services as payments


class CatalogPrices:
    def __init__(self, context: CatalogContext, session: AsyncSession) -> None:
        self._context, self._session = context, session

    async def prices(self, skus: list[str]) -> dict[str, Price]:
        products = await catalog.price_list(self._context.uow(join=self._session), skus)
        return {sku: Price(p.price_cents, p.currency) for sku, p in products.items()}


class InventoryReservations:
    def __init__(self, context: InventoryContext, session: AsyncSession) -> None:
        self._context, self._session = context, session

    async def reserve(self, order_id: str, quantities: dict[str, int]) -> bool:
        return await inventory.reserve(self._uow(), order_id, quantities)

    async def commit(self, order_id: str) -> None:
        await inventory.commit_reservation(self._uow(), order_id)

    async def release(self, order_id: str) -> None:
        await inventory.release_reservation(self._uow(), order_id)

    async def return_stock(self, order_id: str) -> None:
        await inventory.return_stock(self._uow(), order_id)

    def _uow(self) -> InventoryUnitOfWork:
        return self._context.uow(join=self._session)


class PaymentsInProcess:
    def __init__(self, context: PaymentsContext, session: AsyncSession) -> None:
        self._context, self._session = context, session

    async def accepts(self, method: str) -> bool:
        return self._context.processor.accepts(method)

    async def charge(
        self, order_id: str, amount_cents: int, currency: str, method: str
    ) -> PaymentResult:
        outcome = await payments.charge(
            self._context.uow(join=self._session),
            self._context.processor,
            order_id,
            amount_cents,
            currency,
            method,
        )
        return PaymentResult(outcome.value)

    async def refund(self, order_id: str) -> None:
        await payments.refund(self._context.uow(join=self._session), order_id)


class InventoryAvailability:
    """Catalog's port for the product page, answered by inventory in its own transaction."""

    def __init__(self, context: InventoryContext) -> None:
        self._context = context

    async def available(self, sku: str) -> int:
        try:
            item = await inventory.stock_level(self._context.uow(), sku)
        except UnknownSku:
            return 0
        return item.available


def connector(
    catalog_context: CatalogContext,
    inventory_context: InventoryContext,
    payments_context: PaymentsContext,
) -> Connect[SqlOrdersUnitOfWork]:
    def connect(uow: SqlOrdersUnitOfWork) -> Collaborators:
        payments = PaymentsInProcess(payments_context, uow.session)
        return Collaborators(
            prices=CatalogPrices(catalog_context, uow.session),
            methods=payments,
            settlement=SettleInTransaction(
                InventoryReservations(inventory_context, uow.session), payments
            ),
        )

    return connect
