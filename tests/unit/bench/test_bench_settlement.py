"""The ledger and the monolith's table watcher: outcomes counted once, whatever tells first."""

import sqlite3
from pathlib import Path

from shoplab.bench.settlement import Ledger, Placement, TableWatcher, wall_time
from shoplab.bench.workload import PlannedOrder

ORDER = PlannedOrder(0, (("SKU-1", 1),), "pm_card_visa")


def _placed(ledger: Ledger, order_id: str) -> Placement:
    placement = Placement(ORDER, key=order_id, sent_at=100.0, order_id=order_id)
    ledger.placed(placement)
    return placement


def test_an_outcome_seen_before_its_202_settles_the_placement_when_it_comes() -> None:
    ledger = Ledger()
    ledger.settle("o-1", "APPROVED", 100.5)
    placement = _placed(ledger, "o-1")
    assert (placement.status, placement.final_after) == ("APPROVED", 0.5)


def test_the_owners_timestamp_replaces_the_moment_the_status_was_seen() -> None:
    ledger = Ledger()
    placement = _placed(ledger, "o-1")
    ledger.settle("o-1", "REJECTED", None)  # the 202 said so, without a time
    assert placement.estimated
    ledger.settle("o-1", "REJECTED", 100.25)
    ledger.settle("o-1", "REJECTED", 109.0)  # a duplicate changes nothing more
    assert (placement.final_after, placement.estimated) == (0.25, False)
    assert ledger.unsettled() == []


def test_timestamps_are_read_as_the_system_writes_them() -> None:
    assert wall_time("1970-01-01 00:00:01.500000") == 1.5  # naive: UTC
    assert wall_time("1970-01-01T01:00:02+01:00") == 2.0
    assert wall_time(3.25) == 3.25
    assert wall_time("not a time") is None


async def test_the_table_watcher_reads_only_past_the_oldest_open_order(tmp_path: Path) -> None:
    path = tmp_path / "shoplab.db"
    with sqlite3.connect(path) as database:
        database.execute(
            "CREATE TABLE orders_orders (order_id TEXT PRIMARY KEY, status TEXT, updated_at TEXT)"
        )
        database.executemany(
            "INSERT INTO orders_orders VALUES (?, ?, '1970-01-01 00:01:40.100000')",
            [("a", "APPROVED"), ("b", "PENDING"), ("c", "REJECTED")],
        )
    ledger = Ledger()
    a, b, c = (_placed(ledger, name) for name in "abc")
    watcher = TableWatcher(path, ledger, tick=60)
    await watcher.start()
    try:
        assert (a.status, b.status, c.status) == ("APPROVED", "", "REJECTED")
        assert round(a.final_after, 3) == 0.1
        with sqlite3.connect(path) as database:
            database.execute("UPDATE orders_orders SET status = 'APPROVED' WHERE order_id = 'b'")
        watcher.read_once()
        assert b.status == "APPROVED"
        assert ledger.unsettled() == []
    finally:
        await watcher.stop()
