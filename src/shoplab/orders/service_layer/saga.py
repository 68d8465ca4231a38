"""What both saga styles do alike in the service layer: settle an order, or find no saga."""

from shoplab.orders.domain.model import Order, OrderStatus, Reason
from shoplab.orders.service_layer.unit_of_work import OrdersUnitOfWork
from shoplab.platform.errors import NotFound
from shoplab.platform.time import now


class NoSaga(NotFound):
    def __init__(self, order_id: str) -> None:
        super().__init__(f"No saga exists for order {order_id!r}.")


def settle_order(order: Order, status: OrderStatus, reason: Reason | None) -> None:
    """Give the order the final status a saga (either style) decided."""
    at = now()
    if status is OrderStatus.APPROVED:
        order.approve(at)
    elif status is OrderStatus.REJECTED:
        order.reject(reason or Reason.PAYMENT_UNAVAILABLE, at)
    else:
        order.cancel(at)


async def locked_order(uow: OrdersUnitOfWork, order_id: str) -> Order:
    """The order, with its lines, whose row this transaction has locked (``orders.lock``):
    a step reads it only when it settles the order, and need not lock it again."""
    order = await uow.orders.get(order_id)
    assert order is not None, "a locked order is gone"
    return order
