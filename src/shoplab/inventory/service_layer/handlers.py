"""Command handlers: each applies one use case and answers with an event.

They run inside the chassis's idempotent-consumer wrapper: the use case, the
inbox record and the answer in the outbox commit together, so a command
delivered twice is applied and answered once.
"""

from shoplab.contracts.commands import CommitStock, ReleaseStock, ReserveStock, ReturnStock
from shoplab.contracts.envelope import Envelope, Message
from shoplab.contracts.events import (
    StockCommitted,
    StockReleased,
    StockReservationFailed,
    StockReserved,
    StockReturned,
)
from shoplab.inventory.service_layer import services
from shoplab.inventory.service_layer.unit_of_work import InventoryUnitOfWork

OUT_OF_STOCK = "OUT_OF_STOCK"


async def reserve_stock(
    command: ReserveStock, envelope: Envelope, uow: InventoryUnitOfWork
) -> None:
    held = await services.reserve(uow.joined(), command.order_id, command.lines)
    answer: Message = (
        StockReserved(order_id=command.order_id)
        if held
        else StockReservationFailed(order_id=command.order_id, reason=OUT_OF_STOCK)
    )
    await _answer(uow, envelope, answer)


async def commit_stock(command: CommitStock, envelope: Envelope, uow: InventoryUnitOfWork) -> None:
    await services.commit_reservation(uow.joined(), command.order_id)
    await _answer(uow, envelope, StockCommitted(order_id=command.order_id))


async def release_stock(
    command: ReleaseStock, envelope: Envelope, uow: InventoryUnitOfWork
) -> None:
    await services.release_reservation(uow.joined(), command.order_id)
    await _answer(uow, envelope, StockReleased(order_id=command.order_id))


async def return_stock(command: ReturnStock, envelope: Envelope, uow: InventoryUnitOfWork) -> None:
    await services.return_stock(uow.joined(), command.order_id)
    await _answer(uow, envelope, StockReturned(order_id=command.order_id))


async def _answer(uow: InventoryUnitOfWork, cause: Envelope, answer: Message) -> None:
    await uow.publish(answer, correlation_id=cause.correlation_id, causation_id=cause.message_id)
