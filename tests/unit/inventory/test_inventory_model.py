"""Stock and reservations: all lines or none, and every transition applied once."""

import pytest

from shoplab.inventory.domain.model import (
    InvalidStockLevel,
    OutOfStock,
    Reservation,
    ReservationStatus,
    StockItem,
    UnknownSku,
)


def stock(**levels: int) -> dict[str, StockItem]:
    return {sku: StockItem(sku, on_hand) for sku, on_hand in levels.items()}


def test_hold_reserves_every_line() -> None:
    items = stock(A=5, B=2)
    reservation = Reservation.hold("o1", {"A": 3, "B": 2}, items)
    assert reservation.status is ReservationStatus.HELD
    assert (items["A"].available, items["B"].available) == (2, 0)
    assert (items["A"].on_hand, items["A"].reserved) == (5, 3)


def test_hold_reserves_nothing_when_one_line_is_short() -> None:
    items = stock(A=5, B=1)
    with pytest.raises(OutOfStock) as refused:
        Reservation.hold("o1", {"A": 3, "B": 2}, items)
    assert refused.value.sku == "B"
    assert items["A"].reserved == 0
    assert items["B"].reserved == 0


def test_hold_refuses_an_unknown_sku() -> None:
    with pytest.raises(UnknownSku):
        Reservation.hold("o1", {"Z": 1}, stock(A=1))


def test_commit_takes_stock_for_good_once() -> None:
    items = stock(A=5)
    reservation = Reservation.hold("o1", {"A": 2}, items)
    reservation.commit(items)
    reservation.commit(items)
    assert (items["A"].on_hand, items["A"].reserved) == (3, 0)
    assert reservation.status is ReservationStatus.COMMITTED


def test_release_makes_stock_available_again_once() -> None:
    items = stock(A=5)
    reservation = Reservation.hold("o1", {"A": 2}, items)
    reservation.release(items)
    reservation.release(items)
    assert (items["A"].on_hand, items["A"].reserved, items["A"].available) == (5, 0, 5)


def test_a_released_reservation_cannot_be_committed() -> None:
    items = stock(A=5)
    reservation = Reservation.hold("o1", {"A": 2}, items)
    reservation.release(items)
    reservation.commit(items)
    assert reservation.status is ReservationStatus.RELEASED
    assert items["A"].on_hand == 5


def test_return_stock_after_commit_restores_on_hand_once() -> None:
    items = stock(A=5)
    reservation = Reservation.hold("o1", {"A": 2}, items)
    reservation.commit(items)
    reservation.return_stock(items)
    reservation.return_stock(items)
    assert (items["A"].on_hand, items["A"].reserved) == (5, 0)
    assert reservation.status is ReservationStatus.RETURNED


def test_return_stock_of_a_held_reservation_changes_nothing() -> None:
    items = stock(A=5)
    reservation = Reservation.hold("o1", {"A": 2}, items)
    reservation.return_stock(items)
    assert (items["A"].on_hand, items["A"].reserved) == (5, 2)


@pytest.mark.parametrize("on_hand", [-1, 1_000_001])
def test_count_refuses_levels_out_of_range(on_hand: int) -> None:
    with pytest.raises(InvalidStockLevel):
        StockItem("A", 5).count(on_hand)


def test_count_cannot_drop_below_reserved_stock() -> None:
    item = StockItem("A", 5, reserved=3)
    with pytest.raises(InvalidStockLevel):
        item.count(2)
    item.count(3)
    assert item.available == 0
