"""Command handlers: each applies one use case and answers with an event.

They run inside the chassis's idempotent-consumer wrapper: the use case, the
inbox record and the answer in the outbox commit together, so a command
delivered twice is applied and answered once.
"""

from collections.abc import Mapping

import structlog

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
from shoplab.platform.telemetry.logs import in_words

log = structlog.get_logger(__name__)

OUT_OF_STOCK = "OUT_OF_STOCK"


async def reserve_stock(
    command: ReserveStock, envelope: Envelope, uow: InventoryUnitOfWork
) -> None:
    await reserve_and_answer(uow, envelope, command.order_id, command.lines)


async def reserve_and_answer(
    uow: InventoryUnitOfWork, cause: Envelope, order_id: str, lines: Mapping[str, int]
) -> None:
    """Hold the order's stock, and say whether it could: asked by a command or an event."""
    held = await services.reserve(uow.joined(), order_id, lines)
    answer: Message = (
        StockReserved(order_id=order_id)
        if held
        else StockReservationFailed(order_id=order_id, reason=OUT_OF_STOCK)
    )
    await answer_with(uow, cause, answer)


async def commit_stock(command: CommitStock, envelope: Envelope, uow: InventoryUnitOfWork) -> None:
    await services.commit_reservation(uow.joined(), command.order_id)
    await answer_with(uow, envelope, StockCommitted(order_id=command.order_id))


async def release_stock(
    command: ReleaseStock, envelope: Envelope, uow: InventoryUnitOfWork
) -> None:
    await services.release_reservation(uow.joined(), command.order_id)
    await answer_with(uow, envelope, StockReleased(order_id=command.order_id))


async def return_stock(command: ReturnStock, envelope: Envelope, uow: InventoryUnitOfWork) -> None:
    await services.return_stock(uow.joined(), command.order_id)
    await answer_with(uow, envelope, StockReturned(order_id=command.order_id))


async def answer_with(uow: InventoryUnitOfWork, cause: Envelope, answer: Message) -> None:
    """Publish ``answer`` in the handler's transaction, in the same order flow as ``cause``."""
    await uow.publish(answer, correlation_id=cause.correlation_id, causation_id=cause.message_id)
    log.info(in_words(type(answer).__name__), **answer.model_dump(mode="json"))
