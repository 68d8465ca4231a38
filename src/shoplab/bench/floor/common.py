"""What every floor process shares: JetStream, a SQLite file, and the consume loop."""

import asyncio
import sqlite3
from collections.abc import Callable
from pathlib import Path

import nats
import orjson
from nats.aio.client import Client as NatsClient
from nats.aio.msg import Msg
from nats.errors import TimeoutError as NatsTimeout
from nats.js import JetStreamContext
from nats.js.api import AckPolicy, ConsumerConfig

STREAM = "FLOOR"
SUBJECTS = ["floor.>"]
BATCH = 256
"""Messages fetched at once: one transaction for all of them."""
FETCH_SECONDS = 5.0
MORE_SECONDS = 0.005
"""How long to wait for the server's answer to "what else is there?"."""
PUBLISH_WINDOW = 4096
INBOX = "CREATE TABLE IF NOT EXISTS inbox (message_id TEXT PRIMARY KEY);"

Body = dict[str, object]
Outgoing = list[tuple[str, Body]]
Handler = Callable[[sqlite3.Connection, Body], Outgoing]
"""Apply one message inside the batch's transaction; return what to publish after commit."""


def open_database(path: Path, schema: str) -> sqlite3.Connection:
    """A file of one's own: WAL, synced at checkpoints, transactions begun explicitly."""
    database = sqlite3.connect(path, isolation_level=None)
    database.execute("PRAGMA journal_mode=WAL")
    database.execute("PRAGMA synchronous=NORMAL")
    database.executescript(schema + INBOX)
    return database


async def connect(url: str, name: str) -> tuple[NatsClient, JetStreamContext]:
    connection = await nats.connect(url, name=name)
    return connection, connection.jetstream(publish_async_max_pending=PUBLISH_WINDOW)


async def publish(jetstream: JetStreamContext, messages: Outgoing) -> None:
    """Publish pipelined, each with an id the broker de-duplicates on; wait for every ack."""
    acks = [
        await jetstream.publish_async(
            subject,
            orjson.dumps(body),
            stream=STREAM,
            headers={"Nats-Msg-Id": f"{subject}:{body['order_id']}"},
        )
        for subject, body in messages
    ]
    await asyncio.gather(*acks)


async def subscribe(
    jetstream: JetStreamContext, subject: str, durable: str
) -> JetStreamContext.PullSubscription:
    """A durable pull consumer: acks are explicit, sent after the batch's commit."""
    config = ConsumerConfig(ack_policy=AckPolicy.EXPLICIT, ack_wait=30, max_ack_pending=20_000)
    return await jetstream.pull_subscribe(subject, durable=durable, stream=STREAM, config=config)


async def consume(
    subscription: JetStreamContext.PullSubscription,
    jetstream: JetStreamContext,
    database: sqlite3.Connection,
    handle: Handler,
) -> None:
    """Fetch a batch, apply it in one transaction, publish what follows, then ack the batch."""
    while True:
        try:
            messages = await subscription.fetch(1, timeout=FETCH_SECONDS)
        except (NatsTimeout, TimeoutError):
            continue
        messages += await _more(subscription)
        outgoing: Outgoing = []
        database.execute("BEGIN")
        for message in messages:
            message_id = (message.headers or {}).get("Nats-Msg-Id", message.reply)
            fresh = database.execute("INSERT OR IGNORE INTO inbox VALUES (?)", (message_id,))
            if fresh.rowcount:
                outgoing += handle(database, orjson.loads(message.data))
        database.execute("COMMIT")
        await publish(jetstream, outgoing)
        for message in messages:
            await message.ack()


async def _more(subscription: JetStreamContext.PullSubscription) -> list[Msg]:
    """Whatever else is already waiting, up to a batch, without lingering for more.

    nats-py's ``fetch(n)`` waits, once it has one message, until all ``n`` came or the
    timeout passed: under light load that would hold every hop for the whole timeout.
    So the loop waits for one message, then takes only what the server has at once.
    """
    try:
        return await subscription.fetch(BATCH - 1, timeout=MORE_SECONDS)
    except (NatsTimeout, TimeoutError):
        return []


def mark_ready(folder: Path, name: str) -> None:
    """Tell the launcher that this process consumes and serves."""
    (folder / f"{name}.ready").touch()
