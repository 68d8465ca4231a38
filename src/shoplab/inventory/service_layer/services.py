"""Inventory use cases: each opens the unit of work, applies one domain rule, commits."""

from collections.abc import Callable, Mapping

from shoplab.inventory.domain.model import (
    OutOfStock,
    Reservation,
    ReservationStatus,
    StockItem,
    UnknownSku,
)
from shoplab.inventory.service_layer.unit_of_work import InventoryUnitOfWork

Transition = Callable[[Reservation, dict[str, StockItem]], None]


async def reserve(uow: InventoryUnitOfWork, order_id: str, lines: Mapping[str, int]) -> bool:
    """Hold stock for every line of an order; False when any line is short.

    Asking again for the same order answers from the existing reservation, or from
    the refusal recorded the first time.
    """
    async with uow:
        existing = await uow.reservations.get(order_id)
        if existing is not None:
            return existing.status is not ReservationStatus.RELEASED
        items = await uow.stock.get_many(list(lines), lock=True)
        try:
            reservation = Reservation.hold(order_id, dict(lines), items)
        except (OutOfStock, UnknownSku):
            # Remembered, so that the same request sent again (a saga resending a late
            # step) gets the same answer instead of holding stock freed in between.
            await uow.reservations.add(Reservation.refused(order_id))
            await uow.commit()
            return False
        await uow.stock.save(list(items.values()))
        await uow.reservations.add(reservation)
        await uow.commit()
        return True


async def commit_reservation(uow: InventoryUnitOfWork, order_id: str) -> None:
    """The order is approved: its reserved stock leaves for good."""
    await _transition(uow, order_id, Reservation.commit)


async def release_reservation(uow: InventoryUnitOfWork, order_id: str) -> None:
    """The order failed: its reserved stock is available again.

    Releasing an order that holds nothing yet refuses its reservation for good.
    """
    await _transition(uow, order_id, Reservation.release, when_missing=Reservation.refused)


async def return_stock(uow: InventoryUnitOfWork, order_id: str) -> None:
    """The approved order was cancelled: its stock goes back on hand."""
    await _transition(uow, order_id, Reservation.return_stock)


async def _transition(
    uow: InventoryUnitOfWork,
    order_id: str,
    step: Transition,
    *,
    when_missing: Callable[[str], Reservation] | None = None,
) -> None:
    async with uow:
        reservation = await uow.reservations.get(order_id)
        if reservation is None:
            if when_missing is not None:
                await uow.reservations.add(when_missing(order_id))
                await uow.commit()
            return
        items = await uow.stock.get_many(list(reservation.lines), lock=True)
        step(reservation, items)
        await uow.stock.save(list(items.values()))
        await uow.reservations.save(reservation)
        await uow.commit()


async def count_stock(uow: InventoryUnitOfWork, sku: str, on_hand: int) -> StockItem:
    """An administrator sets the counted quantity of a sku."""
    async with uow:
        item = await uow.stock.get(sku, lock=True)
        if item is None:
            raise UnknownSku(sku)
        item.count(on_hand)
        await uow.stock.save([item])
        await uow.commit()
        return item


async def stock_level(uow: InventoryUnitOfWork, sku: str) -> StockItem:
    async with uow.read_only():
        item = await uow.stock.get(sku)
        if item is None:
            raise UnknownSku(sku)
        return item


async def seed(uow: InventoryUnitOfWork, levels: Mapping[str, int]) -> None:
    """Create stock for skus that have none; never overwrites a counted level."""
    async with uow:
        existing = await uow.stock.get_many(list(levels))
        for sku, on_hand in levels.items():
            if sku not in existing:
                await uow.stock.add(StockItem(sku, on_hand))
        await uow.commit()
