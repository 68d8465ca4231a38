"""The broker seam on RabbitMQ: the same guarantees as ``NatsBus``, with AMQP's means.

- Publishing goes to one durable topic exchange, routed by the subject, as a
  persistent message whose ``message_id`` is the envelope's. The channel uses
  publisher confirms and ``mandatory``: ``publish`` returns only once the broker
  has stored the message in every bound queue. The relay publishes a row's stored
  bytes (``publish_stored``) with many confirms awaited at once. A message that no queue would take
  (its consumer has never started yet) raises ``Unroutable``: the outbox keeps the
  row and retries it with backoff, without holding up the rows behind it.
  RabbitMQ has no de-duplication window like JetStream's ``Nats-Msg-Id``: a row
  published twice is delivered twice, and the idempotent consumer's inbox absorbs
  the copy.
- Each consumer has a durable quorum queue bound by its subject. A message is
  acked only after its handler's transaction committed; a crash before the ack
  returns it to the queue. A failed message is requeued after a jittered backoff
  (held unacked meanwhile, so the messages behind it flow), and quorum queues
  count its deliveries (``x-delivery-count``). After ``max_deliveries``, or at
  once when it cannot be parsed, it is copied to the dead-letter queue with the
  error in its headers, then acked.
- Control requests (``answer``) reach every instance: each has its own exclusive,
  auto-deleted queue, and the answer goes to the request's ``reply_to``.
- At start the bus declares the event streams (``rabbit_log``) so that no event
  published from then on is missing from the log.
"""

import asyncio
import contextlib
from collections.abc import Awaitable, Callable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

import aio_pika
import structlog
from aio_pika.abc import (
    AbstractChannel,
    AbstractExchange,
    AbstractIncomingMessage,
    AbstractRobustConnection,
)
from aiormq.exceptions import AMQPError, PublishError

from shoplab.contracts.envelope import Envelope
from shoplab.platform.messaging.consumers import (
    Handled,
    PublisherUnavailable,
    Subscription,
    Verdict,
    handle_delivery,
)
from shoplab.platform.messaging.dead_letters import letter_headers
from shoplab.platform.messaging.rabbitmq.topology import (
    QUORUM,
    RabbitTopology,
    declare_dead_letters,
    declare_exchange,
    declare_streams,
    record_queue,
)
from shoplab.platform.messaging.relay import backoff
from shoplab.platform.messaging.streams import Topology, dead_letter_subject
from shoplab.platform.telemetry.messages import inject_into

log = structlog.get_logger(__name__)

SYSTEM = "rabbitmq"
PREFETCH = 16
PUBLISH_TIMEOUT_SECONDS = 5.0


class Unroutable(Exception):
    """The broker returned the message: no queue is bound for its subject (yet)."""


class RabbitBus:
    """One service's connection to RabbitMQ: its publisher and its durable consumers."""

    system = SYSTEM

    def __init__(
        self,
        url: str,
        *,
        service: str,
        max_deliveries: int = 5,
        topology: Topology | None = None,
    ) -> None:
        self._url = url
        self._service = service
        self._max_deliveries = max_deliveries
        self._names = RabbitTopology(topology or Topology())
        self._subscriptions: list[Subscription] = []
        self._connection: AbstractRobustConnection | None = None
        self._publishing: AbstractChannel | None = None
        self._exchange: AbstractExchange | None = None
        self._dead_letters: AbstractChannel | None = None
        self._later: set[asyncio.Task[None]] = set()

    def subscribe(self, subscriptions: Sequence[Subscription]) -> None:
        """Register durable consumers; call before ``start``."""
        self._subscriptions.extend(subscriptions)

    async def start(self) -> None:
        self._connection = await aio_pika.connect_robust(
            self._url, client_properties={"connection_name": self._service}
        )
        self._publishing = await self._connection.channel(on_return_raises=True)
        self._exchange = await declare_exchange(self._publishing, self._names)
        self._dead_letters = await self._connection.channel()
        await declare_dead_letters(self._dead_letters, self._names)
        await declare_streams(self._connection, self._names)
        for subscription in self._subscriptions:
            await self._consume(subscription)

    async def stop(self) -> None:
        for task in list(self._later):
            task.cancel()
        if self._connection is not None:
            await self._connection.close()
        self._connection = None

    async def connected(self) -> bool:
        return self._connection is not None and not self._connection.is_closed

    async def publish(self, envelope: Envelope) -> None:
        """Route ``envelope`` to its queues; raises unless the broker confirmed it."""
        headers: dict[str, str] = {}
        inject_into(headers)
        await (
            await self.publish_stored(
                envelope.subject,
                envelope.message_id,
                envelope.model_dump_json().encode(),
                headers,
                envelope.type,
            )
        )

    async def publish_stored(
        self,
        subject: str,
        message_id: str,
        body: bytes,
        headers: Mapping[str, str],
        message_type: str,
    ) -> "asyncio.Future[Any]":
        """Route a stored message's bytes to its queues; the future ends with the confirm."""
        if self._exchange is None or not await self.connected():
            raise PublisherUnavailable
        message = aio_pika.Message(
            body,
            headers=dict(headers),
            message_id=message_id,
            content_type="application/json",
            delivery_mode=aio_pika.DeliveryMode.PERSISTENT,
            timestamp=datetime.now(UTC),
            type=message_type,
        )
        return asyncio.ensure_future(self._confirmed(self._exchange, message, subject))

    async def _confirmed(
        self, exchange: AbstractExchange, message: aio_pika.Message, subject: str
    ) -> None:
        try:
            await exchange.publish(
                message,
                self._names.routing_key(subject),
                mandatory=True,
                timeout=PUBLISH_TIMEOUT_SECONDS,
            )
        except PublishError as error:  # returned: no queue is bound for it yet
            raise Unroutable(f"no queue takes {subject} yet") from error
        except (AMQPError, ConnectionError, TimeoutError) as error:
            raise PublisherUnavailable(repr(error)) from error

    async def answer(self, subject: str, handle: Callable[[bytes], Awaitable[bytes]]) -> None:
        """Answer requests routed by ``subject`` (already wired): every instance receives each
        one on an exclusive queue of its own, gone with its connection."""
        assert self._connection is not None, "start the bus first"
        channel = await self._connection.channel()
        exchange = await declare_exchange(channel, self._names)
        queue = await channel.declare_queue(exclusive=True, auto_delete=True)
        await queue.bind(exchange, subject)

        async def respond(message: AbstractIncomingMessage) -> None:
            async with message.process():
                answer = await handle(message.body)
                if message.reply_to:
                    await channel.default_exchange.publish(
                        aio_pika.Message(answer, correlation_id=message.correlation_id),
                        message.reply_to,
                    )

        await queue.consume(respond)

    async def _consume(self, subscription: Subscription) -> None:
        assert self._connection is not None
        channel = await self._connection.channel()
        await channel.set_qos(prefetch_count=PREFETCH)
        exchange = await declare_exchange(channel, self._names)
        name = self._names.consumer_queue(subscription.consumer)
        queue = await channel.declare_queue(name, durable=True, arguments=QUORUM)
        await queue.bind(exchange, self._names.routing_key(subscription.subject))
        await record_queue(channel, self._names, name)
        one_at_a_time = asyncio.Lock()

        async def deliver(message: AbstractIncomingMessage) -> None:
            async with one_at_a_time:
                await self._deliver(subscription, message)

        await queue.consume(deliver)

    async def _deliver(self, subscription: Subscription, message: AbstractIncomingMessage) -> None:
        deliveries = delivery_count(message)
        handled = await handle_delivery(
            subscription,
            message.body,
            deliveries,
            self._max_deliveries,
            system=SYSTEM,
            headers=text_headers(message),
        )
        match handled:
            case Handled(verdict=Verdict.DEAD_LETTER, error=Exception() as error):
                await self._dead_letter(subscription, message, error, deliveries)
            case Handled(verdict=Verdict.RETRY):
                self._requeue_later(message, backoff(deliveries).total_seconds())
            case _:
                await message.ack()

    def _requeue_later(self, message: AbstractIncomingMessage, delay: float) -> None:
        """Hold the message unacked for ``delay`` seconds, then return it to its queue."""

        async def later() -> None:
            await asyncio.sleep(delay)
            with contextlib.suppress(AMQPError, ConnectionError):
                await message.nack(requeue=True)

        task = asyncio.create_task(later())
        self._later.add(task)
        task.add_done_callback(self._later.discard)

    async def _dead_letter(
        self,
        subscription: Subscription,
        message: AbstractIncomingMessage,
        error: Exception,
        deliveries: int,
    ) -> None:
        """Park the message in the dead-letter queue, then ack it so the rest flows."""
        assert self._dead_letters is not None
        original = self._names.topology.unwire(message.routing_key or "")
        letter = aio_pika.Message(
            message.body,
            message_id=message.message_id,
            content_type=message.content_type,
            delivery_mode=aio_pika.DeliveryMode.PERSISTENT,
            timestamp=datetime.now(UTC),
            headers=dict(letter_headers(original, subscription.consumer, error, deliveries)),
        )
        try:
            await self._dead_letters.default_exchange.publish(
                letter, self._names.dead_letters, timeout=PUBLISH_TIMEOUT_SECONDS
            )
        except Exception:
            log.exception("dead-lettering failed; will retry", consumer=subscription.consumer)
            self._requeue_later(message, backoff(deliveries).total_seconds())
            return
        log.error(
            "message dead-lettered",
            consumer=subscription.consumer,
            subject=original,
            dead_letters=dead_letter_subject(subscription.consumer),
            deliveries=deliveries,
            error=repr(error)[:500],
        )
        await message.ack()


def text_headers(message: AbstractIncomingMessage) -> dict[str, str]:
    """The message's text headers (where the trace context travels)."""
    return {k: v for k, v in (message.headers or {}).items() if isinstance(v, str)}


def delivery_count(message: AbstractIncomingMessage) -> int:
    """This delivery's number, from 1: quorum queues count earlier ones in ``x-delivery-count``."""
    earlier = (message.headers or {}).get("x-delivery-count", 0)
    return int(earlier) + 1 if isinstance(earlier, int | str) and str(earlier).isdigit() else 1
