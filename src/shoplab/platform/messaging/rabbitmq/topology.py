"""Where messages travel on RabbitMQ: one topic exchange, a queue per consumer, streams.

The names follow the NATS ``Topology`` and its namespace rules: with namespace
``run7`` the exchange is ``run7.shoplab``, routing keys are the wired subjects
(``run7.shoplab.orders.events.OrderApproved``) and every queue name starts with
``run7.``. Runs sharing one RabbitMQ server therefore never see each other's
messages, and deleting a run is deleting the names below.

- ``exchange``: a durable topic exchange that every message is published to;
- ``consumer_queue``: a durable quorum queue per consumer, bound by its subject;
- ``dead_letters``: one durable quorum queue for every consumer's dead letters;
- ``event_stream``: a RabbitMQ stream per context, bound to its events, read as a log;
- ``inventory``: a queue holding the name of every consumer queue the run declared,
  so that the run can be deleted without the management plugin's listing.
"""

from dataclasses import dataclass, field

import aio_pika
from aio_pika.abc import AbstractChannel, AbstractExchange, ExchangeType
from pamqp.common import Arguments

from shoplab.contracts.contexts import PUBLISHERS
from shoplab.platform.messaging.streams import Retention, Topology

EVENT_SOURCES = PUBLISHERS
"""The contexts whose events are kept in a stream for readers of the log."""


def stream_arguments(retention: Retention) -> Arguments:
    """A stream's limits (``max_msgs`` has no counterpart: streams are bounded by age and size)."""
    return {
        "x-queue-type": "stream",
        "x-max-age": f"{max(1, int(retention.max_age_seconds))}s",
        "x-max-length-bytes": retention.max_bytes,
    }


@dataclass(frozen=True)
class RabbitTopology:
    """The names of one run (one namespace) on a RabbitMQ server."""

    topology: Topology = field(default_factory=Topology)

    @property
    def exchange(self) -> str:
        return self.topology.wire("shoplab")

    def routing_key(self, subject: str) -> str:
        return self.topology.wire(subject)

    def consumer_queue(self, consumer: str) -> str:
        return self.topology.wire(f"shoplab.consumer.{consumer}")

    @property
    def dead_letters(self) -> str:
        return self.topology.wire("shoplab.dlq")

    def event_stream(self, source: str) -> str:
        return self.topology.wire(f"shoplab.stream.{source}")

    def event_pattern(self, source: str) -> str:
        return self.topology.wire(f"shoplab.{source}.events.#")

    @property
    def inventory(self) -> str:
        return self.topology.wire("shoplab.queues")

    def streams(self) -> list[str]:
        return [self.event_stream(source) for source in EVENT_SOURCES]


QUORUM: Arguments = {"x-queue-type": "quorum"}


async def declare_exchange(channel: AbstractChannel, names: RabbitTopology) -> AbstractExchange:
    return await channel.declare_exchange(names.exchange, ExchangeType.TOPIC, durable=True)


async def declare_dead_letters(channel: AbstractChannel, names: RabbitTopology) -> None:
    await channel.declare_queue(names.dead_letters, durable=True, arguments=QUORUM)


async def declare_streams(
    connection: aio_pika.abc.AbstractConnection, names: RabbitTopology
) -> None:
    """Declare each event stream and bind it, so no event published from now on is missed.

    A stream declared earlier with other limits keeps them (RabbitMQ refuses to
    redeclare a queue with other arguments, and closes the channel that asked):
    each stream gets a channel of its own, and the refusal is only logged.
    """
    import structlog

    log = structlog.get_logger(__name__)
    for source in EVENT_SOURCES:
        channel = await connection.channel()
        try:
            exchange = await declare_exchange(channel, names)
            stream = await channel.declare_queue(
                names.event_stream(source),
                durable=True,
                arguments=stream_arguments(names.topology.retention),
            )
            await stream.bind(exchange, names.event_pattern(source))
        except aio_pika.exceptions.ChannelPreconditionFailed as error:
            log.warning("event stream kept its earlier limits", stream=source, error=str(error))
        finally:
            if not channel.is_closed:
                await channel.close()


async def record_queue(channel: AbstractChannel, names: RabbitTopology, queue: str) -> None:
    """Note ``queue`` in the run's inventory (a name may be noted more than once)."""
    await channel.declare_queue(names.inventory, durable=True)
    await channel.default_exchange.publish(
        aio_pika.Message(queue.encode(), delivery_mode=aio_pika.DeliveryMode.PERSISTENT),
        names.inventory,
    )


async def delete_namespace(url: str, names: RabbitTopology) -> list[str]:
    """Delete every queue and the exchange of a run; returns the queues deleted."""
    connection = await aio_pika.connect(url)
    try:
        channel = await connection.channel()
        queues = [*names.streams(), names.dead_letters]
        inventory = await channel.declare_queue(names.inventory, durable=True)
        while (message := await inventory.get(no_ack=True, fail=False)) is not None:
            queues.append(message.body.decode())
        queues = list(dict.fromkeys([*queues, names.inventory]))
        for queue in queues:
            await channel.queue_delete(queue)
        await channel.exchange_delete(names.exchange)
        return queues
    finally:
        await connection.close()
