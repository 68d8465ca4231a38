"""A durable pull consumer whose requests stay open: messages arrive as they are stored.

nats-py's ``fetch`` makes two requests to the server for every batch it returns: one
answered at once (with "no messages" when nothing waits), then one that waits for the
first message. So a busy consumer pays a round trip to the server before each batch, and
each message of light traffic costs two requests and a status besides itself: about 170 µs
of CPU a message and a tenth of a millisecond of its time (docs/performance.md).
``OpenPull`` keeps requests for ``batch`` messages open on the server at all times, as the
newer NATS clients' ``consume`` does:

- at start it asks for ``batch`` messages, a request valid for ``expires`` seconds;
- whenever the messages asked for and those arrived but not yet taken fall to half of
  ``batch``, it asks for the difference: the server always has somewhere to put the next
  message, and no more than ``batch`` wait here unhandled (their ack wait runs);
- a request that expires says how many of its messages it did not deliver (status
  ``408``), and those are asked for again;
- the server proves a waiting request alive with a heartbeat every ``heartbeat`` seconds.
  When neither a message nor a heartbeat has come for two of them (the connection dropped,
  the server restarted and lost its requests), everything is asked for again. A request the
  server ends otherwise (``409``: the consumer deleted, a leadership change) is forgotten
  and asked for again the same way, after that silence, not at once: an answer that came at
  once would come again, in a loop.

A message arrives with its own reply subject, so acking, naking and its metadata work as on
nats-py's own subscriptions.
"""

import asyncio
import contextlib
import json
import time
from collections import deque

import structlog
from nats.aio.client import Client
from nats.aio.msg import Msg
from nats.aio.subscription import Subscription

log = structlog.get_logger(__name__)

API_PREFIX = "$JS.API"
STATUS = "Status"
HEARTBEAT = "100"
EXPIRED = "408"
UNDELIVERED = "Nats-Pending-Messages"


class OpenPull:
    """Requests kept open on one durable pull consumer; ``next_batch`` takes what arrived."""

    def __init__(
        self,
        connection: Client,
        stream: str,
        consumer: str,
        *,
        batch: int,
        expires: float = 30.0,
        heartbeat: float = 2.5,
    ) -> None:
        if not 0 < heartbeat < expires:
            raise ValueError("the heartbeat must come more often than a request expires")
        self._connection = connection
        self._next = f"{API_PREFIX}.CONSUMER.MSG.NEXT.{stream}.{consumer}"
        self._consumer = consumer
        self._batch = batch
        self._request = json.dumps(
            {"expires": int(expires * 1e9), "idle_heartbeat": int(heartbeat * 1e9)}
        )[1:]  # the body after ``{"batch": n, `` (see ``_ask``)
        self._heartbeat = heartbeat
        self._arrived: deque[Msg] = deque()
        self._ready = asyncio.Event()
        self._asked = 0
        self._heard_at = time.monotonic()
        self._inbox = ""
        self._subscription: Subscription | None = None
        self._watchdog: asyncio.Task[None] | None = None

    @property
    def asked(self) -> int:
        """Messages requested that have neither arrived nor been given up by the server."""
        return self._asked

    @property
    def waiting(self) -> int:
        """Messages that arrived and were not taken yet."""
        return len(self._arrived)

    async def start(self) -> None:
        self._inbox = self._connection.new_inbox()
        self._subscription = await self._connection.subscribe(self._inbox, cb=self._received)
        self._heard_at = time.monotonic()
        await self._top_up()
        self._watchdog = asyncio.create_task(self._watch(), name=f"pull {self._consumer}")

    async def stop(self) -> None:
        """Stop asking; what arrived and was not taken goes back to the server at once."""
        if self._watchdog is not None:
            self._watchdog.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._watchdog
        if self._subscription is not None:
            with contextlib.suppress(Exception):
                await self._subscription.unsubscribe()
        while self._arrived:
            with contextlib.suppress(Exception):
                await self._arrived.popleft().nak()

    async def next_batch(self) -> list[Msg]:
        """Every message that has arrived, up to ``batch``; waits for the first one."""
        while not self._arrived:
            self._ready.clear()
            await self._ready.wait()
        taken = [self._arrived.popleft() for _ in range(min(self._batch, len(self._arrived)))]
        await self._top_up()
        return taken

    async def _received(self, message: Msg) -> None:
        self._heard_at = time.monotonic()
        status = message.headers.get(STATUS) if message.headers else None
        if status is None:
            self._asked = max(self._asked - 1, 0)
            self._arrived.append(message)
            self._ready.set()
        elif status == HEARTBEAT:
            return
        elif status == EXPIRED and message.headers and UNDELIVERED in message.headers:
            self._asked = max(self._asked - int(message.headers[UNDELIVERED]), 0)
        else:  # asking again at once could meet the same answer at once, in a loop
            log.warning("a pull request ended", consumer=self._consumer, status=status)
            self._asked = 0
            return
        await self._top_up()

    async def _top_up(self) -> None:
        """Ask for the difference once what is asked for and waiting is half a batch."""
        waiting = self._asked + len(self._arrived)
        if waiting > self._batch // 2:
            return
        missing = self._batch - waiting
        self._asked += missing
        body = f'{{"batch": {missing}, {self._request}'.encode()
        try:
            await self._connection.publish(self._next, body, reply=self._inbox)
        except Exception as error:  # not connected: the watchdog asks again
            self._asked -= missing
            log.warning("asking for messages failed", consumer=self._consumer, error=repr(error))

    async def _watch(self) -> None:
        """Ask again for everything when the server has been silent for two heartbeats."""
        while True:
            await asyncio.sleep(self._heartbeat)
            if time.monotonic() - self._heard_at < 2 * self._heartbeat:
                continue
            self._asked = 0
            self._heard_at = time.monotonic()
            await self._top_up()
