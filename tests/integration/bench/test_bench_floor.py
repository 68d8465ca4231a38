"""The floor, started for real (its own nats-server, four processes), settles what it takes."""

import asyncio
import os
from urllib.parse import urlsplit

import psutil

from shoplab.bench import floor_system
from shoplab.bench.client import Client
from shoplab.bench.placing import Placer, closed_loop
from shoplab.bench.settlement import EventWatcher, Ledger
from shoplab.bench.workload import endless

SECONDS = 2.0


async def test_orders_placed_on_the_floor_are_approved_and_seen_once() -> None:
    async with floor_system.running() as floor:
        pids = floor.pids()
        ledger = Ledger()
        watcher = EventWatcher(floor.nats_url, floor_system.OUTCOME_SUBJECTS, ledger)
        await watcher.start()
        address = urlsplit(floor.url)
        client = Client(str(address.hostname), int(address.port or 0))
        placer = Placer(client, ["Bearer floor"] * 4, ledger, path="/orders")
        stop = asyncio.Event()
        try:
            placing = asyncio.create_task(
                closed_loop(placer, endless(["A", "B", "C"], customers=4), 8, stop)
            )
            await asyncio.sleep(SECONDS)
            stop.set()
            await placing
            assert await ledger.drained(30)
        finally:
            client.close()
            await watcher.stop()
        placements = list(ledger.placements.values())
        assert len(placements) >= 8
        assert {p.status for p in placements} == {"APPROVED"}
        assert all(0 < p.final_after < 30 for p in placements)
        assert dict(placer.refusals.by_status) == {}
    assert not any(psutil.pid_exists(pid) and _alive(pid) for pid in pids.values())


def _alive(pid: int) -> bool:
    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE and pid != os.getpid()
    except psutil.NoSuchProcess:
        return False
