"""What the outbox relay costs per row, against a real NATS JetStream.

    .venv/bin/python bench/relay_micro.py [--rows 3000] [--flows 300] [--nats nats://127.0.0.1:4222]

Three phases on one SQLite file, in a stream namespace of its own (deleted at the end):

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
    return int(row[0])


async def until_published(database: Database) -> None:
    while await waiting(database):  # noqa: ASYNC110 (the table is what is timed)
        await asyncio.sleep(0.01)


def report(phase: str, rows: int, wall: float, cpu: float) -> None:
    print(
        f"{phase:9} {rows} rows: wall {wall * 1e6 / rows:8.1f} µs/row ({wall:6.3f} s),"
        f" CPU {cpu * 1e6 / rows:8.1f} µs/row"
    )


async def main(rows: int, flows: int, url: str) -> None:
    topology = Topology(namespace=f"rm{uuid.uuid4().hex[:10]}")
    with tempfile.TemporaryDirectory() as directory:
        database = Database(f"sqlite:///{Path(directory) / 'bench.db'}")
        async with database.engine.begin() as connection:
            await connection.run_sync(metadata.create_all)
        bus = NatsBus(url, service="relay-micro", topology=topology)
        await bus.start()
        try:
            cpu, wall = time.process_time(), time.perf_counter()
            await commit_rows(database, rows, flows)
            commit_cpu = time.process_time() - cpu
            report("commit", rows, time.perf_counter() - wall, commit_cpu)

            relay = OutboxRelay(database, [OUTBOX], bus, system=bus.system)
            cpu, wall = time.process_time(), time.perf_counter()
            task = asyncio.create_task(relay.run())
            await until_published(database)
            report("recovery", rows, time.perf_counter() - wall, time.process_time() - cpu)

            await asyncio.sleep(0.5)
            cpu, wall = time.process_time(), time.perf_counter()
            await commit_rows(database, rows, flows)
            await until_published(database)
            spent = time.process_time() - cpu - commit_cpu
            report("live", rows, time.perf_counter() - wall, spent)
            task.cancel()
        finally:
            await bus.stop()
            connection = await nats.connect(url)
            for stream in topology.streams():
                await connection.jetstream().delete_stream(stream.name)
            await connection.close()
            await database.dispose()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=3000)
    parser.add_argument("--flows", type=int, default=300)
    parser.add_argument("--nats", default="nats://127.0.0.1:4222")
    arguments = parser.parse_args()
    asyncio.run(main(arguments.rows, arguments.flows, arguments.nats))
