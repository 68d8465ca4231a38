"""Consuming messages: subscriptions and the idempotent-consumer wrapper.

Delivery is at least once, so a handler may see the same message twice. The
wrapper makes its effects happen once: it records the message id in the context's
inbox (one insert that ignores a duplicate: nothing inserted means handled before),
runs the handler and commits, all in one transaction. Two concurrent deliveries of
one message cannot both commit: the inbox's primary key holds the second back
until the first ends, and then it finds the row and does nothing.
"""

import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Protocol, TypeVar

import structlog
from pydantic import ValidationError

from shoplab.contracts.envelope import Envelope, Message
from shoplab.platform.persistence.unit_of_work import UnitOfWorkWithInbox
from shoplab.platform.telemetry.messages import consuming, failed
from shoplab.platform.telemetry.metrics import messaging_metrics


@dataclass(frozen=True)
class Subscription:
    """``consumer`` (a durable name) handles every message published on ``subject``."""

    consumer: str
    subject: str
    handle: Callable[[Envelope], Awaitable[None]]
    max_deliveries: int | None = None
    """Deliveries before the dead-letter subject; ``None``: the process's default."""


class Publisher(Protocol):
    """Where the outbox relay sends messages: in-process subscribers or a broker."""

    async def publish(self, envelope: Envelope) -> None:
        """Raises ``PublisherUnavailable`` when nothing can be published right now."""
        ...


class PublisherUnavailable(Exception):
    """The broker cannot be reached: no message is at fault, so none is dead-lettered."""


log = structlog.get_logger(__name__)

IN_PROCESS = "in-process"
"""The ``messaging.system`` of the monolith's transport (the brokers: ``nats``, ``rabbitmq``)."""


class Verdict(StrEnum):
    ACK = "ack"
    RETRY = "retry"
    DEAD_LETTER = "dead_letter"


@dataclass(frozen=True)
class Handled:
    """What a bus must do with one delivery once its handler has run."""

    verdict: Verdict
    error: Exception | None = None


async def handle_delivery(
    subscription: Subscription,
    body: bytes,
    deliveries: int,
    max_deliveries: int,
    *,
    system: str,
    headers: Mapping[str, str],
) -> Handled:
    """Run the handler on one delivery; the rule every broker's bus follows.

    A handled message is acked. A message that cannot be parsed will never succeed,
    so it goes to the dead letters at once. A failing one is retried until it has been
    delivered ``max_deliveries`` times (the subscription's own limit first), then
    dead-lettered: the broker decides only *how* to wait and where the letters go.
    The handling is a span (its parent comes in ``headers``) and is counted in metrics.
    """
    metrics = messaging_metrics()
    if deliveries > 1:
        metrics.redeliveries.labels(subscription.consumer).inc()
    started = time.perf_counter()
    handled = await _handle(subscription, body, deliveries, max_deliveries, system, headers)
    metrics.handling.labels(subscription.consumer).observe(time.perf_counter() - started)
    metrics.consumed.labels(subscription.consumer, subscription.subject, handled.verdict).inc()
    if handled.verdict is Verdict.DEAD_LETTER:
        metrics.dead_letters.labels(subscription.consumer).inc()
    return handled


async def _handle(
    subscription: Subscription,
    body: bytes,
    deliveries: int,
    max_deliveries: int,
    system: str,
    headers: Mapping[str, str],
) -> Handled:
    try:
        envelope = Envelope.model_validate_json(body)
    except ValidationError as error:
        return Handled(Verdict.DEAD_LETTER, error)
    with consuming(
        envelope, subscription.consumer, system, headers=headers, deliveries=deliveries
    ) as span:
        try:
            await subscription.handle(envelope)
        except ValidationError as error:
            failed(span, error)
            return Handled(Verdict.DEAD_LETTER, error)
        except Exception as error:
            failed(span, error)
            if deliveries >= (subscription.max_deliveries or max_deliveries):
                return Handled(Verdict.DEAD_LETTER, error)
            log.warning(
                "message handling failed; will retry",
                consumer=subscription.consumer,
                deliveries=deliveries,
                error=repr(error)[:500],
            )
            return Handled(Verdict.RETRY, error)
    return Handled(Verdict.ACK)


M = TypeVar("M", bound=Message)
U = TypeVar("U", bound=UnitOfWorkWithInbox)


def idempotent_consumer(
    consumer: str,
    message_type: type[M],
    new_uow: Callable[[], U],
    handler: Callable[[M, Envelope, U], Awaitable[None]],
    *,
    max_deliveries: int | None = None,
) -> Subscription:
    """Wrap ``handler`` so that its effects and the inbox record commit together."""

    async def handle(envelope: Envelope) -> None:
        message = message_type.model_validate(envelope.payload)
        async with new_uow() as uow:
            if not await uow.first_delivery(consumer, envelope.message_id):
                return
            await handler(message, envelope, uow)
            await uow.commit()

    return Subscription(consumer, message_type.subject(), handle, max_deliveries)


class InProcessPublisher:
    """Hands each message to the subscribers of its subject, in this process.

    The modular monolith's transport: no broker, but the same outbox, the same
    at-least-once retries and the same idempotent consumers as the services.
    """

    def __init__(self, subscriptions: list[Subscription]) -> None:
        self._by_subject: dict[str, list[Subscription]] = {}
        for subscription in subscriptions:
            self._by_subject.setdefault(subscription.subject, []).append(subscription)

    async def publish(self, envelope: Envelope) -> None:
        for subscription in self._by_subject.get(envelope.subject, []):
            outcome = Verdict.RETRY  # a failure fails the relay's publish: it tries again
            with consuming(envelope, subscription.consumer, IN_PROCESS) as span:
                try:
                    await subscription.handle(envelope)
                    outcome = Verdict.ACK
                except Exception as error:
                    failed(span, error)
                    raise
                finally:
                    messaging_metrics().consumed.labels(
                        subscription.consumer, subscription.subject, outcome
                    ).inc()
