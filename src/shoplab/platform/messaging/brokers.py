"""Which broker a URL names, and the adapters that speak to it.

The one place that knows the schemes: ``nats://`` (or ``tls://``) is NATS
JetStream, ``amqp://`` (or ``amqps://``) is RabbitMQ. The adapters are imported
only when chosen, so a run on one broker never loads the other's client.

Besides a service's bus and event log, the operator's requests go through here
too (``open_dead_letters``, ``ask_every``): they fail with the seam's
``BrokerError``, never with a client library's error.
"""

from contextlib import AbstractAsyncContextManager
from urllib.parse import urlsplit

from shoplab.platform.messaging.bus import Bus
from shoplab.platform.messaging.dead_letters import DeadLetters
from shoplab.platform.messaging.event_log import EventLog
from shoplab.platform.messaging.streams import Retention, Topology
from shoplab.platform.settings import PlatformSettings

AMQP_SCHEMES = frozenset({"amqp", "amqps"})
NATS_SCHEMES = frozenset({"nats", "tls"})


def is_amqp(url: str) -> bool:
    return urlsplit(url).scheme in AMQP_SCHEMES


def is_nats(url: str) -> bool:
    return urlsplit(url).scheme in NATS_SCHEMES


def open_bus(url: str, *, service: str, settings: PlatformSettings) -> Bus:
    """The bus for ``url``: RabbitMQ for ``amqp://``, NATS JetStream otherwise."""
    topology = Topology(settings.broker_namespace, Retention.from_settings(settings))
    if is_amqp(url):
        from shoplab.platform.messaging.rabbitmq.bus import RabbitBus

        return RabbitBus(
            url,
            service=service,
            max_deliveries=settings.max_deliveries,
            topology=topology,
        )
    from shoplab.platform.messaging.jetstream.bus import NatsBus

    return NatsBus(url, service=service, max_deliveries=settings.max_deliveries, topology=topology)


def open_event_log(settings: PlatformSettings, *, name: str = "event-log") -> EventLog:
    """The log of the run's broker, chosen by the scheme of ``SHOPLAB_BROKER_URL``."""
    url = settings.broker_url
    if not url:
        raise RuntimeError("SHOPLAB_BROKER_URL is not set: there is no log to read")
    topology = Topology(settings.broker_namespace, Retention.from_settings(settings))
    if is_amqp(url):
        from shoplab.platform.messaging.rabbitmq.event_log import RabbitEventLog

        return RabbitEventLog(url, topology, name=name)
    if is_nats(url):
        from shoplab.platform.messaging.jetstream.event_log import NatsEventLog

        return NatsEventLog(url, topology, name=name)
    raise ValueError(f"no event log for a {urlsplit(url).scheme}:// broker")


def open_dead_letters(url: str, topology: Topology) -> AbstractAsyncContextManager[DeadLetters]:
    """The run's dead letters on the broker at ``url``, for as long as the block lasts."""
    if is_amqp(url):
        from shoplab.platform.messaging.rabbitmq.dead_letters import rabbit_dead_letters

        return rabbit_dead_letters(url, topology)
    from shoplab.platform.messaging.jetstream.dead_letters import nats_dead_letters

    return nats_dead_letters(url, topology)


async def ask_every(
    url: str, topology: Topology, subject: str, body: bytes, *, answers: int, wait: float
) -> list[bytes]:
    """A control request to every instance listening on ``subject`` (see ``Bus.answer``):
    the answers that came back, up to ``answers``, within ``wait`` seconds."""
    if is_amqp(url):
        from shoplab.platform.messaging.rabbitmq import control as rabbit_control

        return await rabbit_control.ask_every(
            url, topology, subject, body, answers=answers, wait=wait
        )
    from shoplab.platform.messaging.jetstream import control as nats_control

    return await nats_control.ask_every(url, topology, subject, body, answers=answers, wait=wait)
