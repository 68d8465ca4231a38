"""Inventory's part in the choreographed saga (``SHOPLAB_SAGA=choreography``).

No command reaches inventory in this style: it reacts to the events of orders and
payments, with the same use cases as the orchestrated commands, and announces each
result with the same events:

- ``OrderPlaced``: hold the stock (``StockReserved`` or ``StockReservationFailed``);
- ``PaymentCharged``: the stock leaves for good (``StockCommitted``);
- ``PaymentFailed``: the compensation, free the stock (``StockReleased``);
- ``PaymentRefunded`` (a cancellation): the stock goes back (``StockReturned``).

Payments acts only after ``StockReserved``, so a payment event always finds its
reservation. Each reaction runs in the idempotent consumer: the stock change, the
inbox record and the event in the outbox commit together.
"""

from shoplab.contracts.envelope import Envelope
from shoplab.contracts.events import (
    OrderPlaced,
    PaymentCharged,
    PaymentFailed,
    PaymentRefunded,
    StockCommitted,
    StockReleased,
    StockReturned,
)
from shoplab.inventory.service_layer import services
from shoplab.inventory.service_layer.handlers import answer_with, reserve_and_answer
from shoplab.inventory.service_layer.unit_of_work import InventoryUnitOfWork


async def on_order_placed(event: OrderPlaced, envelope: Envelope, uow: InventoryUnitOfWork) -> None:
    lines = {line.sku: line.quantity for line in event.lines}
    await reserve_and_answer(uow, envelope, event.order_id, lines)


async def on_payment_charged(
    event: PaymentCharged, envelope: Envelope, uow: InventoryUnitOfWork
) -> None:
    await services.commit_reservation(uow.joined(), event.order_id)
    await answer_with(uow, envelope, StockCommitted(order_id=event.order_id))


async def on_payment_failed(
    event: PaymentFailed, envelope: Envelope, uow: InventoryUnitOfWork
) -> None:
    await services.release_reservation(uow.joined(), event.order_id)
    await answer_with(uow, envelope, StockReleased(order_id=event.order_id))


async def on_payment_refunded(
    event: PaymentRefunded, envelope: Envelope, uow: InventoryUnitOfWork
) -> None:
    await services.return_stock(uow.joined(), event.order_id)
    await answer_with(uow, envelope, StockReturned(order_id=event.order_id))
