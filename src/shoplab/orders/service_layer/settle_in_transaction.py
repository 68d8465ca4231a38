"""Settling an order inside the placement's own transaction (the modular monolith).

Stock, payment and order commit or roll back together, so there is nothing to
compensate after a crash: either all of it happened or none of it did.
"""

from shoplab.orders.domain.model import Order, Reason
from shoplab.orders.service_layer.ports import PaymentResult, Payments, StockReservations
from shoplab.orders.service_layer.unit_of_work import OrdersUnitOfWork
from shoplab.platform.time import now

PAYMENT_FAILURES = {
    PaymentResult.DECLINED: Reason.PAYMENT_DECLINED,
    PaymentResult.INSUFFICIENT_FUNDS: Reason.INSUFFICIENT_FUNDS,
}


class SettleInTransaction:
    def __init__(self, stock: StockReservations, payments: Payments) -> None:
        self._stock = stock
        self._payments = payments

    async def settle(self, uow: OrdersUnitOfWork, order: Order, method: str) -> None:
        """Reserve, charge, then approve; or undo what was done and reject."""
        if not await self._stock.reserve(order.order_id, order.quantities()):
            order.reject(Reason.OUT_OF_STOCK, now())
            return
        result = await self._payments.charge(
            order.order_id, order.total_cents, order.currency, method
        )
        if result is PaymentResult.CHARGED:
            await self._stock.commit(order.order_id)
            order.approve(now())
        else:
            await self._stock.release(order.order_id)
            order.reject(PAYMENT_FAILURES[result], now())

    async def cancel(self, uow: OrdersUnitOfWork, order: Order) -> None:
        """Stock goes back and the payment is refunded in full, with the order."""
        order.cancel(now())
        await self._stock.return_stock(order.order_id)
        await self._payments.refund(order.order_id)
