"""The broker seam of the microservices mode: NATS JetStream.

Publishing goes through a stream with the message id as ``Nats-Msg-Id``, so a
relay that publishes the same outbox row twice (it crashed before marking it)
stores it once. The relay publishes the row's stored bytes with nats-py's
asynchronous JetStream publish (``publish_stored``): many messages are in flight,
each acknowledgement a future, where FastStream's publish awaits each in turn.
Consuming uses durable pull consumers with explicit acks: a message is acked only
after its handler's transaction has committed, so a crash at any point means a
redelivery, which the idempotent consumer absorbs.

Each durable consumer is one task on an ``OpenPull``, which keeps requests for up to
``FETCH_BATCH`` messages open on the server, so messages arrive as they are stored: the
task takes whatever has arrived (up to ``FETCH_BATCH``, waiting for the first), hands it
to ``handle_batch`` as one batch (one transaction, a savepoint per message), then acks,
naks or dead-letters each.

A message that keeps failing is retried with jittered backoff until
``max_deliveries``; then it is copied to ``shoplab.dlq.<consumer>`` with the
error in its headers and acked, so it stops blocking nothing and loses nothing.
A message that cannot even be parsed goes there at once.
"""

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import Any

import structlog
from faststream.nats import NatsBroker
from nats.aio.msg import Msg
from nats.js import JetStreamContext
from nats.js.api import ConsumerConfig
from nats.js.errors import BadRequestError, NotFoundError

from shoplab.contracts.envelope import Envelope
from shoplab.platform.messaging.consumers import (
    Delivery,
    Handled,
    PublisherUnavailable,
    Subscription,
    Verdict,
    handle_batch,
)
from shoplab.platform.messaging.dead_letters import letter_headers
from shoplab.platform.messaging.jetstream.open_pull import OpenPull
from shoplab.platform.messaging.jetstream.streams import stream_config
from shoplab.platform.messaging.relay import backoff
from shoplab.platform.messaging.streams import StreamSpec, Topology, dead_letter_subject
from shoplab.platform.telemetry.messages import inject_into

log = structlog.get_logger(__name__)

SYSTEM = "nats"
ACK_WAIT_SECONDS = 10.0
FETCH_BATCH = 64
"""Messages handled in one transaction, at most; also what a consumer asks the server for."""
PULL_HEARTBEAT_SECONDS = 2.5
"""How often the server proves an open request alive: consuming resumes within two of
these after the server lost the requests (a reconnection, a restart)."""
PUBLISH_TIMEOUT_SECONDS = 5.0


class NatsBus:
    """One service's connection to JetStream: its publisher and its durable consumers."""

    system = SYSTEM

    def __init__(
        self,
        url: str,
        *,
        service: str,
        max_deliveries: int = 5,
        topology: Topology | None = None,
    ) -> None:
        self._max_deliveries = max_deliveries
        self._topology = topology or Topology()
        self._broker = NatsBroker(
            url,
            name=service,
            max_reconnect_attempts=-1,
            reconnect_time_wait=1,
            logger=None,
            log_level=logging.DEBUG,
        )
        self._started = False
        self._jetstream: JetStreamContext | None = None
        self._subscriptions: list[Subscription] = []
        self._consumers: list[asyncio.Task[None]] = []
        self._pulls: list[OpenPull] = []

    def subscribe(self, subscriptions: Sequence[Subscription]) -> None:
        """Register durable consumers; call before ``start``."""
        self._subscriptions.extend(subscriptions)

    async def start(self) -> None:
        await self._broker.connect()
        await ensure_streams(self._broker, self._topology.streams())
        await self._broker.start()
        self._jetstream = self._broker.connection.jetstream()
        jetstream = self._jetstream
        for subscription in self._subscriptions:
            pull = await self._pull(jetstream, subscription)
            await pull.start()
            self._pulls.append(pull)
            self._consumers.append(
                asyncio.create_task(
                    self._consume(subscription, pull), name=f"consume {subscription.consumer}"
                )
            )
        self._started = True

    async def stop(self) -> None:
        for task in self._consumers:
            task.cancel()
        for task in self._consumers:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._consumers.clear()
        for pull in self._pulls:  # what a handler held unacked comes back after the ack wait
            await pull.stop()
        self._pulls.clear()
        await self._broker.stop()
        self._started = False

    async def connected(self) -> bool:
        return self._started and self._broker.connection.is_connected

    async def publish(self, envelope: Envelope) -> None:
        """Store ``envelope`` in its stream; raises unless the broker acknowledged it."""
        headers: dict[str, str] = {}
        inject_into(headers)
        stored = await self.publish_stored(
            envelope.subject,
            envelope.message_id,
            envelope.model_dump_json().encode(),
            headers,
            envelope.type,
        )
        async with asyncio.timeout(PUBLISH_TIMEOUT_SECONDS):
            await stored

    async def publish_stored(
        self,
        subject: str,
        message_id: str,
        body: bytes,
        headers: Mapping[str, str],
        message_type: str,
    ) -> "asyncio.Future[Any]":
        """Send a stored message's bytes to its stream; the future ends with the PubAck."""
        if self._jetstream is None or not await self.connected():
            raise PublisherUnavailable
        return await self._jetstream.publish_async(
            self._topology.wire(subject),
            body,
            stream=self._topology.stream_for(subject),
            headers={**headers, "Nats-Msg-Id": message_id},
        )

    async def answer(self, subject: str, handle: Callable[[bytes], Awaitable[bytes]]) -> None:
        """Answer requests on a core NATS subject (not a stream): control messages that
        matter only to the instances running now. Every instance receives each request."""

        async def respond(message: Msg) -> None:
            answer = await handle(message.data)
            if message.reply:
                await message.respond(answer)

        await self._broker.connection.subscribe(subject, cb=respond)

    async def _pull(self, jetstream: JetStreamContext, subscription: Subscription) -> OpenPull:
        """The durable consumer's open pull, creating the consumer the first time (an
        existing one is kept as it is: the same configuration it was created with)."""
        stream = self._topology.stream_for(subscription.subject)
        durable = durable_name(subscription.consumer)
        try:
            await jetstream.consumer_info(stream, durable)
        except NotFoundError:
            config = ConsumerConfig(
                name=durable,
                durable_name=durable,
                filter_subject=self._topology.wire(subscription.subject),
                ack_wait=ACK_WAIT_SECONDS,
            )
            await jetstream.add_consumer(stream, config=config)
        return OpenPull(
            self._broker.connection,
            stream,
            durable,
            batch=FETCH_BATCH,
            heartbeat=PULL_HEARTBEAT_SECONDS,
        )

    async def _consume(self, subscription: Subscription, pull: OpenPull) -> None:
        """Take what arrived, handle it, settle each message; until the bus stops."""
        while True:
            messages = await pull.next_batch()
            try:
                await self._deliver(subscription, messages)
            except Exception:  # unacked messages come back after the ack wait
                log.exception("settling a batch failed", consumer=subscription.consumer)

    async def _deliver(self, subscription: Subscription, messages: list[Msg]) -> None:
        """Handle the batch, then ack what committed, nak what failed, park the hopeless."""
        deliveries = [
            Delivery(message.data, message.metadata.num_delivered or 1, message.headers or {})
            for message in messages
        ]
        handled = await handle_batch(subscription, deliveries, self._max_deliveries, system=SYSTEM)
        for message, delivery, outcome in zip(messages, deliveries, handled, strict=True):
            match outcome:
                case Handled(verdict=Verdict.DEAD_LETTER, error=Exception() as error):
                    await self._dead_letter(subscription, message, error, delivery.deliveries)
                case Handled(verdict=Verdict.RETRY):
                    await message.nak(delay=backoff(delivery.deliveries).total_seconds())
                case _:
                    await message.ack()

    async def _dead_letter(
        self, subscription: Subscription, message: Msg, error: Exception, deliveries: int
    ) -> None:
        """Park the message on the dead-letter subject, then ack it so the rest flows."""
        dead_letters = dead_letter_subject(subscription.consumer)
        try:
            await self._broker.publish(
                message.data,
                self._topology.wire(dead_letters),
                headers=letter_headers(
                    self._topology.unwire(message.subject),
                    subscription.consumer,
                    error,
                    deliveries,
                ),
                stream=self._topology.stream_for(dead_letters),
                timeout=PUBLISH_TIMEOUT_SECONDS,
            )
        except Exception:
            log.exception("dead-lettering failed; will retry", consumer=subscription.consumer)
            await message.nak(delay=backoff(deliveries).total_seconds())
            return
        log.error(
            "message dead-lettered",
            consumer=subscription.consumer,
            subject=message.subject,
            deliveries=deliveries,
            error=repr(error)[:500],
        )
        await message.ack()


def durable_name(consumer: str) -> str:
    """JetStream consumer names may not contain dots: ``orders.saga.X`` → ``orders-saga-X``."""
    return consumer.replace(".", "-")


async def ensure_streams(broker: NatsBroker, streams: Sequence[StreamSpec]) -> None:
    """Create each stream, or bring an existing one to the configured limits."""
    jetstream = broker.connection.jetstream()
    for spec in streams:
        try:
            await jetstream.add_stream(stream_config(spec))
        except BadRequestError:
            await jetstream.update_stream(stream_config(spec))
