"""Reading the view: plain queries, no domain logic (the read side of CQRS)."""

from shoplab.history.domain.model import OrderHistory
from shoplab.history.service_layer.unit_of_work import HistoryUnitOfWork
from shoplab.platform.errors import NotFound


class NotInHistory(NotFound):
    def __init__(self, order_id: str) -> None:
        super().__init__(f"The order history holds no order {order_id!r} (yet).")


async def orders_of(uow: HistoryUnitOfWork, customer_id: str, limit: int) -> list[OrderHistory]:
    async with uow.read_only():
        return await uow.view.listed_for(customer_id, limit)


async def everything(uow: HistoryUnitOfWork) -> list[OrderHistory]:
    async with uow.read_only():
        return await uow.view.everything()


async def entry(uow: HistoryUnitOfWork, order_id: str) -> OrderHistory:
    async with uow.read_only():
        found = await uow.view.get(order_id)
    if found is None:
        raise NotInHistory(order_id)
    return found
