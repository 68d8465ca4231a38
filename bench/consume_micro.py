"""What consuming costs per message: a JetStream consumer and an idempotent handler on SQLite.

    .venv/bin/python bench/consume_micro.py [--messages 5000] [--nats nats://127.0.0.1:4222]

Publishes ``--messages`` events to a stream of a throwaway namespace, then starts a
``NatsBus`` whose one idempotent consumer writes a row per message (and the inbox record)
to a real SQLite file, and times it until every message has committed. What is timed is
the chassis's consuming path: fetching, parsing, the span, the transaction, the ack.

Prints the CPU time and the wall time per message, in microseconds, and the rate.
"""

import argparse
import asyncio
import tempfile
import time
import uuid
from pathlib import Path
from typing import ClassVar

import nats
from sqlalchemy import Column, MetaData, String, Table

from shoplab.contracts.envelope import Envelope
from shoplab.contracts.events import CustomerRegistered
from shoplab.platform.messaging.consumers import idempotent_consumer
from shoplab.platform.messaging.jetstream.bus import NatsBus
from shoplab.platform.messaging.streams import Topology
from shoplab.platform.messaging.tables import inbox_table, outbox_table
from shoplab.platform.persistence.database import Database
from shoplab.platform.persistence.unit_of_work import SqlUnitOfWork

metadata = MetaData()
OUTBOX = outbox_table(metadata, "bench")
INBOX = inbox_table(metadata, "bench")
CONTACTS = Table("bench_contacts", metadata, Column("customer_id", String(64), primary_key=True))


class BenchUnitOfWork(SqlUnitOfWork):
    outbox: ClassVar[Table | None] = OUTBOX
    inbox: ClassVar[Table | None] = INBOX


async def measure(url: str, messages: int, folder: Path) -> None:
    database = Database(f"sqlite:///{folder / 'consume.db'}")
    await database.run_sync(metadata.create_all)
    topology = Topology(namespace=f"bench{uuid.uuid4().hex[:8]}")
    committed = 0
    done = asyncio.Event()

    async def remember(event: CustomerRegistered, envelope: Envelope, uow: SqlUnitOfWork) -> None:
        await uow.sql.execute(
            "INSERT INTO bench_contacts (customer_id) VALUES (:id)", {"id": event.customer_id}
        )
        uow.after_commit(counted)

    def counted() -> None:
        nonlocal committed
        committed += 1
        if committed == messages:
            done.set()

    consumer = idempotent_consumer(
        "bench.contacts", CustomerRegistered, lambda: BenchUnitOfWork(database), remember
    )
    publisher = NatsBus(url, service="bench-publisher", topology=topology)
    await publisher.start()  # the streams
    broker = await nats.connect(url)
    jetstream = broker.jetstream()
    subject = topology.wire(consumer.subject)
    stream = topology.stream_for(consumer.subject)
    for n in range(messages):
        event = CustomerRegistered(customer_id=f"c{n}", email=f"c{n}@example.com", name="C")
        data = Envelope.wrap(event).model_dump_json().encode()
        await jetstream.publish(subject, data, stream=stream)

    bus = NatsBus(url, service="bench-consumer", topology=topology)
    bus.subscribe([consumer])
    cpu, wall = time.process_time(), time.perf_counter()
    await bus.start()
    await asyncio.wait_for(done.wait(), 600)
    cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    await bus.stop()
    await publisher.stop()
    for name in [s.name for s in topology.streams()]:
        await jetstream.delete_stream(name)
    await broker.close()
    await database.dispose()
    print(
        f"{messages} messages: cpu {cpu / messages * 1e6:.0f} µs/message,"
        f" wall {wall / messages * 1e6:.0f} µs/message, {messages / wall:.0f} messages/s"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--messages", type=int, default=5000)
    parser.add_argument("--nats", default="nats://127.0.0.1:4222")
    arguments = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        asyncio.run(measure(arguments.nats, arguments.messages, Path(folder)))


if __name__ == "__main__":
    main()
