"""What the outbox relay costs per row, against a real NATS JetStream.

    .venv/bin/python bench/relay_micro.py [--rows 3000] [--flows 300] [--repeat 5]
        [--nats nats://127.0.0.1:4222]

Three phases on one SQLite file, in a stream namespace of its own (deleted at the end),
each repeated and reported as the median:

- ``commit``: N transactions of one outbox row each, with no relay running: what the
  writers cost on their own;
- ``recovery``: a relay started on those N committed rows (as after a crash), timed until
  every row is published and marked;
- ``live``: a relay running while N more rows are committed, timed from the first commit
  until every row is published and marked.

Each prints the wall time and the process's CPU per row (for ``live``, less the writers'
CPU measured in ``commit``), in microseconds. Rows are spread over ``--flows`` orders.
"""

import argparse
import asyncio
import statistics
import tempfile
import time
import uuid
from pathlib import Path
from typing import ClassVar

import nats
from sqlalchemy import MetaData, Table

from shoplab.contracts.events import StockReserved
from shoplab.platform.messaging.jetstream.bus import NatsBus
from shoplab.platform.messaging.relay import OutboxRelay
from shoplab.platform.messaging.streams import Topology
from shoplab.platform.messaging.tables import outbox_table
from shoplab.platform.persistence.database import Database
from shoplab.platform.persistence.unit_of_work import SqlUnitOfWork

metadata = MetaData()
OUTBOX = outbox_table(metadata, "bench")


class BenchUnitOfWork(SqlUnitOfWork):
    outbox: ClassVar[Table | None] = OUTBOX


async def commit_rows(database: Database, rows: int, flows: int) -> None:
    for n in range(rows):
        order = f"o{n % flows}"
        async with BenchUnitOfWork(database) as uow:
            await uow.publish(StockReserved(order_id=order), correlation_id=order)
            await uow.commit()
        if n % 16 == 15:
            await asyncio.sleep(0)  # let the relay in, as a server's other requests would


async def waiting(database: Database) -> int:
    async with database.transaction(read_only=True) as sql:
        row = await sql.one(f"SELECT count(*) FROM {OUTBOX.name} WHERE published_at IS NULL")
    assert row is not None
    return int(row[0])


async def until_published(database: Database) -> None:
    while await waiting(database):  # noqa: ASYNC110 (the table is what is timed)
        await asyncio.sleep(0.01)


async def timed_relay(
    database: Database, bus: NatsBus, rows: int, flows: int, *, live: bool
) -> tuple[float, float]:
    """Wall and CPU seconds until every row is published: rows committed before the relay
    starts (recovery), or while it runs (live)."""
    relay = OutboxRelay(database, [OUTBOX], bus, system=bus.system)
    if live:
        task = asyncio.create_task(relay.run())
        await asyncio.sleep(0.2)
    cpu, wall = time.process_time(), time.perf_counter()
    if live:
        await commit_rows(database, rows, flows)
    else:
        task = asyncio.create_task(relay.run())
    await until_published(database)
    spent = time.process_time() - cpu, time.perf_counter() - wall
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)
    return spent


async def main(rows: int, flows: int, url: str, repeat: int) -> None:
    topology = Topology(namespace=f"rm{uuid.uuid4().hex[:10]}")
    results: dict[str, list[tuple[float, float]]] = {"commit": [], "recovery": [], "live": []}
    with tempfile.TemporaryDirectory() as directory:
        database = Database(f"sqlite:///{Path(directory) / 'bench.db'}")
        await database.run_sync(metadata.create_all)
        bus = NatsBus(url, service="relay-micro", topology=topology)
        await bus.start()
        try:
            for _ in range(repeat):
                cpu, wall = time.process_time(), time.perf_counter()
                await commit_rows(database, rows, flows)
                commit = time.process_time() - cpu, time.perf_counter() - wall
                results["commit"].append(commit)
                results["recovery"].append(
                    await timed_relay(database, bus, rows, flows, live=False)
                )
                live_cpu, live_wall = await timed_relay(database, bus, rows, flows, live=True)
                results["live"].append((live_cpu - commit[0], live_wall))
        finally:
            await bus.stop()
            broker = await nats.connect(url)
            for stream in topology.streams():
                await broker.jetstream().delete_stream(stream.name)
            await broker.close()
            await database.dispose()
    for phase, runs in results.items():
        cpu = statistics.median(run[0] for run in runs)
        wall = statistics.median(run[1] for run in runs)
        print(
            f"{phase:9} {rows} rows: wall {wall * 1e6 / rows:7.1f} µs/row ({wall:6.3f} s),"
            f" CPU {cpu * 1e6 / rows:7.1f} µs/row (median of {len(runs)})"
        )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=3000)
    parser.add_argument("--flows", type=int, default=300)
    parser.add_argument("--nats", default="nats://127.0.0.1:4222")
    parser.add_argument("--repeat", type=int, default=5)
    arguments = parser.parse_args()
    asyncio.run(main(arguments.rows, arguments.flows, arguments.nats, arguments.repeat))
