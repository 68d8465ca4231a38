"""The raw JetStream baseline: what the broker alone does on this machine, with no shoplab code.

The microservices mode pays for every message it sends through NATS JetStream. To tell the
broker's cost from our own, this measures nats-py against a fresh embedded server, configured
as ``shoplab up`` configures it (``--fsync always`` included), on a stream set up like
shoplab's (file storage, the same limits and de-duplication window):

- *awaited* publishing waits for each message's acknowledgement before sending the next, as a
  relay that publishes one outbox row at a time does;
- *pipelined* publishing keeps up to ``WINDOW`` messages in flight (nats-py's
  ``publish_async``): the most the broker can store with one connection;
- *consuming* reads everything back through a durable pull consumer in batches of ``WINDOW``
  and acks each message with a plain ``ack()`` (no round trip to wait for), as shoplab's
  consumers do; once done, it checks that the server holds no unacknowledged message.

Each publish carries a unique ``Nats-Msg-Id`` and the expected stream, as shoplab's do.
"""

import asyncio
import contextlib
import tempfile
import time
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from subprocess import DEVNULL

import httpx
import nats
from nats.js import JetStreamContext
from nats.js.api import AckPolicy, ConsumerConfig

from shoplab.platform.messaging.jetstream.streams import stream_config
from shoplab.platform.messaging.streams import StreamSpec
from shoplab.runtime import broker
from shoplab.runtime.ports import free_ports

STREAM = "SHOPLAB_BENCH"
SUBJECT = "shoplab.bench.events.Measured"
DURABLE = "bench-reader"
WINDOW = 256
"""Messages in flight when pipelining, and the batch of each fetch."""
ACK_WAIT_SECONDS = 10.0
FETCH_TIMEOUT_SECONDS = 5.0
SETTLE_TIMEOUT_SECONDS = 5.0
"""How long the server may take to count the last acks (outside the timed part)."""
START_TIMEOUT_SECONDS = 15.0
STOP_TIMEOUT_SECONDS = 10.0


@dataclass(frozen=True)
class JetStreamBaseline:
    """Messages per second each way, and the counts that show nothing was lost or repeated."""

    publish_awaited_per_second: float
    publish_pipelined_per_second: float
    consume_per_second: float
    messages: int
    """Published by each publishing phase: the consumer reads twice this many."""
    payload_bytes: int
    fsync: bool
    consumed: int
    """Distinct messages the consumer received (by stream sequence)."""
    redelivered: int
    """Messages received more than once: 0 unless an ack was lost or came too late."""
    unacknowledged: int
    """Messages the server still counted as unacknowledged once consuming was over."""


async def measure_jetstream(
    *, messages: int = 20_000, payload_bytes: int = 512, fsync: bool = False
) -> JetStreamBaseline:
    """Start a private NATS server, measure the three rates, then stop it and delete its store."""
    if messages < 1 or payload_bytes < 0:
        raise ValueError("measure at least one message of a non-negative size")
    payload = b"x" * payload_bytes
    with tempfile.TemporaryDirectory(prefix="shoplab-bench-nats-") as folder:
        async with embedded_nats(Path(folder), fsync=fsync) as (url, _):
            connection = await nats.connect(url)
            try:
                jetstream = connection.jetstream(publish_async_max_pending=WINDOW)
                await jetstream.add_stream(stream_config(StreamSpec(STREAM, [SUBJECT])))
                awaited = await _publish_awaited(jetstream, messages, payload)
                pipelined = await _publish_pipelined(jetstream, messages, payload)
                reading = await _consume(jetstream, 2 * messages)
                await connection.flush()
                unacknowledged = await _settled_ack_pending(jetstream)
            finally:
                await connection.close()
    return JetStreamBaseline(
        publish_awaited_per_second=awaited,
        publish_pipelined_per_second=pipelined,
        consume_per_second=reading.per_second,
        messages=messages,
        payload_bytes=payload_bytes,
        fsync=fsync,
        consumed=reading.distinct,
        redelivered=reading.repeated,
        unacknowledged=unacknowledged,
    )


def _headers() -> dict[str, str]:
    return {"Nats-Msg-Id": uuid.uuid4().hex}


async def _publish_awaited(jetstream: JetStreamContext, count: int, payload: bytes) -> float:
    started = time.perf_counter()
    for _ in range(count):
        await jetstream.publish(SUBJECT, payload, stream=STREAM, headers=_headers())
    return count / (time.perf_counter() - started)


async def _publish_pipelined(jetstream: JetStreamContext, count: int, payload: bytes) -> float:
    """``publish_async`` blocks once ``WINDOW`` acks are pending, so the window stays full."""
    started = time.perf_counter()
    acks = [
        await jetstream.publish_async(SUBJECT, payload, stream=STREAM, headers=_headers())
        for _ in range(count)
    ]
    await asyncio.gather(*acks)  # raises if any publish was refused
    return count / (time.perf_counter() - started)


@dataclass(frozen=True)
class _Reading:
    per_second: float
    distinct: int
    repeated: int


async def _consume(jetstream: JetStreamContext, count: int) -> _Reading:
    config = ConsumerConfig(ack_policy=AckPolicy.EXPLICIT, ack_wait=ACK_WAIT_SECONDS)
    subscription = await jetstream.pull_subscribe(
        SUBJECT, durable=DURABLE, stream=STREAM, config=config
    )
    seen: set[int] = set()
    received = 0
    started = time.perf_counter()
    while len(seen) < count:
        for message in await subscription.fetch(WINDOW, timeout=FETCH_TIMEOUT_SECONDS):
            seen.add(message.metadata.sequence.stream)
            received += 1
            await message.ack()
    elapsed = time.perf_counter() - started
    await subscription.unsubscribe()
    return _Reading(count / elapsed, len(seen), received - len(seen))


async def _settled_ack_pending(jetstream: JetStreamContext) -> int:
    """The server's count of unacknowledged messages, once it has processed the acks sent."""
    deadline = time.monotonic() + SETTLE_TIMEOUT_SECONDS
    while True:
        pending = (await jetstream.consumer_info(STREAM, DURABLE)).num_ack_pending or 0
        if pending == 0 or time.monotonic() > deadline:
            return pending
        await asyncio.sleep(0.05)


@contextlib.asynccontextmanager
async def embedded_nats(data_dir: Path, *, fsync: bool) -> AsyncIterator[tuple[str, int]]:
    """A server configured as ``shoplab up`` configures its own, on free loopback ports;
    yields its URL and its process id."""
    config = broker.write_nats_config(data_dir, fsync)
    client, monitor = free_ports(2)
    log = data_dir / "nats-server.log"
    argv = [*broker.server_argv(client, monitor), "--config", str(config), "--log", str(log)]
    server = await asyncio.create_subprocess_exec(*argv, stdin=DEVNULL)
    try:
        await _wait_healthy(server, broker.healthz_url(monitor), log)
        yield f"nats://127.0.0.1:{client}", server.pid
    finally:
        if server.returncode is None:
            server.terminate()
            try:
                await asyncio.wait_for(server.wait(), STOP_TIMEOUT_SECONDS)
            except TimeoutError:
                server.kill()
                await server.wait()


async def _wait_healthy(server: asyncio.subprocess.Process, url: str, log: Path) -> None:
    deadline = time.monotonic() + START_TIMEOUT_SECONDS
    async with httpx.AsyncClient(timeout=1.0) as http:
        while time.monotonic() < deadline:
            if server.returncode is not None:
                raise RuntimeError(f"nats-server exited at start: {_tail(log)}")
            with contextlib.suppress(httpx.HTTPError):
                if (await http.get(url)).status_code == 200:
                    return
            await asyncio.sleep(0.05)
    raise RuntimeError(
        f"nats-server was not healthy within {START_TIMEOUT_SECONDS:.0f} s: {_tail(log)}"
    )


def _tail(log: Path) -> str:
    try:
        return log.read_text(errors="replace")[-2000:]
    except OSError:
        return "(no log)"
