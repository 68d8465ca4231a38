"""Consuming messages: subscriptions and the idempotent-consumer wrapper.

Delivery is at least once, so a handler may see the same message twice. The
wrapper makes its effects happen once: it records the message id in the context's
inbox (one insert that ignores a duplicate: nothing inserted means handled before),
runs the handler and commits, all in one transaction. Two concurrent deliveries of
one message cannot both commit: the inbox's primary key holds the second back
until the first ends, and then it finds the row and does nothing.

A broker hands over messages in batches (``handle_batch``): an idempotent consumer
handles a batch in one transaction, each message in a savepoint of its own. A
message whose handler fails is rolled back alone and delivered again; the others
commit together, and the bus acks them only once that commit is done. A batch
costs one ``BEGIN``/``COMMIT`` instead of one per message.
"""

import sys
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass
from enum import StrEnum
from typing import Protocol, TypeVar

import structlog
from pydantic import ValidationError

from shoplab.contracts.envelope import Envelope, Message
from shoplab.platform.persistence.sql import SavepointLost
from shoplab.platform.persistence.unit_of_work import UnitOfWorkWithInbox
from shoplab.platform.telemetry.messages import consuming, failed
from shoplab.platform.telemetry.metrics import messaging_metrics


class Batch(Protocol):
    """Several messages of one subscription in one transaction."""

    async def handle(self, envelope: Envelope) -> None:
        """Handle one message in a savepoint: if it raises, only its effects are undone."""
        ...

    async def commit(self) -> None:
        """Commit every message handled without an error; leaving without it undoes all."""
        ...


@dataclass(frozen=True)
class Subscription:
    """``consumer`` (a durable name) handles every message published on ``subject``."""

    consumer: str
    subject: str
    handle: Callable[[Envelope], Awaitable[None]]
    max_deliveries: int | None = None
    """Deliveries before the dead-letter subject; ``None``: the process's default."""
    batch: Callable[[], AbstractAsyncContextManager[Batch]] | None = None
    """Opens a transaction for several messages; ``None``: ``handle`` takes them one by one."""


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
NEVER_DEAD = sys.maxsize
"""The in-process transport's delivery limit: the relay's attempts decide when to stop."""


class Verdict(StrEnum):
    ACK = "ack"
    RETRY = "retry"
    DEAD_LETTER = "dead_letter"


@dataclass(frozen=True)
class Handled:
    """What a bus must do with one delivery once its handler has run."""

    verdict: Verdict
    error: Exception | None = None


@dataclass(frozen=True)
class Delivery:
    """One message as the broker handed it over."""

    body: bytes
    deliveries: int
    """This delivery's number, from 1."""
    headers: Mapping[str, str]
    """Where the trace context travels."""


async def handle_delivery(
    subscription: Subscription,
    body: bytes,
    deliveries: int,
    max_deliveries: int,
    *,
    system: str,
    headers: Mapping[str, str],
) -> Handled:
    """Run the handler on one delivery: a batch of one (see ``handle_batch``)."""
    [handled] = await handle_batch(
        subscription, [Delivery(body, deliveries, headers)], max_deliveries, system=system
    )
    return handled


async def handle_batch(
    subscription: Subscription,
    deliveries: Sequence[Delivery],
    max_deliveries: int,
    *,
    system: str,
) -> list[Handled]:
    """Run the handler on each delivery, in order; what to do with each, in the same order.

    The rule every broker's bus follows. A handled message is acked. A message that
    cannot be parsed will never succeed, so it goes to the dead letters at once. A
    failing one is retried until it has been delivered ``max_deliveries`` times (the
    subscription's own limit first), then dead-lettered: the broker decides only *how*
    to wait and where the letters go. With ``subscription.batch`` the messages share
    one transaction, a savepoint each; if that transaction fails to commit, none of
    them is acked. Each handling is a span (its parent comes in the headers) and is
    counted in metrics.
    """
    metrics = messaging_metrics()
    verdicts: list[Handled | None] = [None] * len(deliveries)
    parsed: list[tuple[int, Delivery, Envelope]] = []
    for index, delivery in enumerate(deliveries):
        if delivery.deliveries > 1:
            metrics.redeliveries.labels(subscription.consumer).inc()
        try:
            parsed.append((index, delivery, Envelope.model_validate_json(delivery.body)))
        except ValidationError as error:
            verdicts[index] = Handled(Verdict.DEAD_LETTER, error)
    if subscription.batch is None or len(parsed) == 1:
        for index, delivery, envelope in parsed:
            verdicts[index] = await _handle(
                subscription.handle, subscription, envelope, delivery, max_deliveries, system
            )
    elif parsed:
        try:
            async with subscription.batch() as batch:
                for index, delivery, envelope in parsed:
                    verdicts[index] = await _handle(
                        batch.handle, subscription, envelope, delivery, max_deliveries, system
                    )
                await batch.commit()
        except Exception as error:
            log.warning(
                "a batch did not commit; its messages will be delivered again",
                consumer=subscription.consumer,
                messages=len(parsed),
                error=repr(error)[:500],
            )
            for index, delivery, _ in parsed:
                if verdicts[index] is None or verdicts[index] == Handled(Verdict.ACK):
                    verdicts[index] = _failure(subscription, error, delivery, max_deliveries)
    handled = [verdict or Handled(Verdict.RETRY) for verdict in verdicts]
    for verdict in handled:
        metrics.consumed.labels(subscription.consumer, subscription.subject, verdict.verdict).inc()
        if verdict.verdict is Verdict.DEAD_LETTER:
            metrics.dead_letters.labels(subscription.consumer).inc()
    return handled


async def _handle(
    handle: Callable[[Envelope], Awaitable[None]],
    subscription: Subscription,
    envelope: Envelope,
    delivery: Delivery,
    max_deliveries: int,
    system: str,
) -> Handled:
    started = time.perf_counter()
    with consuming(
        envelope,
        subscription.consumer,
        system,
        headers=delivery.headers,
        deliveries=delivery.deliveries,
    ) as span:
        try:
            await handle(envelope)
        except SavepointLost:
            raise  # the whole transaction is gone: the batch fails, not this message
        except Exception as error:
            failed(span, error)
            return _failure(subscription, error, delivery, max_deliveries)
        finally:
            messaging_metrics().handling.labels(subscription.consumer).observe(
                time.perf_counter() - started
            )
    return Handled(Verdict.ACK)


def _failure(
    subscription: Subscription, error: Exception, delivery: Delivery, max_deliveries: int
) -> Handled:
    """A payload that does not validate never will; anything else is tried again, up to
    the limit."""
    if isinstance(error, ValidationError):
        return Handled(Verdict.DEAD_LETTER, error)
    if delivery.deliveries >= (subscription.max_deliveries or max_deliveries):
        return Handled(Verdict.DEAD_LETTER, error)
    log.warning(
        "message handling failed; will retry",
        consumer=subscription.consumer,
        deliveries=delivery.deliveries,
        error=repr(error)[:500],
    )
    return Handled(Verdict.RETRY, error)


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
    """Wrap ``handler`` so that its effects and the inbox record commit together.

    One message at a time, it opens a unit of work of its own; in a batch, each message
    gets a joined one on the batch's transaction, inside a savepoint: a handler's
    ``commit()`` then decides nothing, the batch's does. Batches only where the unit of
    work says a transaction may hold one (``batches_messages``).
    """

    async def handle_in(uow: U, envelope: Envelope, message: M) -> None:
        if not await uow.first_delivery(consumer, envelope.message_id):
            return
        await handler(message, envelope, uow)
        await uow.commit()

    async def handle(envelope: Envelope) -> None:
        message = message_type.model_validate(envelope.payload)
        async with new_uow() as uow:
            await handle_in(uow, envelope, message)

    class InboxBatch:
        def __init__(self, owner: U) -> None:
            self._owner = owner

        async def handle(self, envelope: Envelope) -> None:
            message = message_type.model_validate(envelope.payload)
            async with self._owner.savepoint(), self._owner.joined() as uow:
                await handle_in(uow, envelope, message)

        async def commit(self) -> None:
            await self._owner.commit()

    @asynccontextmanager
    async def batch() -> AsyncIterator[Batch]:
        async with new_uow() as owner:
            yield InboxBatch(owner)

    batches = new_uow().batches_messages
    return Subscription(
        consumer, message_type.subject(), handle, max_deliveries, batch if batches else None
    )


class InProcessPublisher:
    """Hands each message to the subscribers of its subject, in this process.

    The modular monolith's transport: no broker, but the same outbox, the same
    at-least-once retries and the same idempotent consumers as the services.
    """

    def __init__(self, subscriptions: list[Subscription]) -> None:
        self._by_subject: dict[str, list[Subscription]] = {}
        for subscription in subscriptions:
            self._by_subject.setdefault(subscription.subject, []).append(subscription)

    async def publish_batch(
        self, messages: Sequence[tuple[str, bytes, Mapping[str, str]]], attempts: Sequence[int]
    ) -> list[Exception | None]:
        """Hand a batch of stored messages (subject, body, trace headers) to their
        subscribers (a message nobody subscribes to is done at once): each
        subscription takes its share in one transaction, a savepoint each (``handle_batch``).

        Returns, for each message, None when every subscriber handled it, else an error;
        the relay then tries that message again later, and the subscribers' inboxes make
        the second handling of those that succeeded a no-op. ``attempts`` are the tries
        each message already had (the relay, not the subscription, decides when to stop).
        """
        results: list[Exception | None] = [None] * len(messages)
        shares: list[tuple[Subscription, list[int]]] = []
        for index, (subject, _, _) in enumerate(messages):
            for subscription in self._by_subject.get(subject, []):
                share = next((s for s in shares if s[0] is subscription), None)
                if share is None:
                    shares.append(share := (subscription, []))
                share[1].append(index)
        for subscription, indices in shares:
            deliveries = [
                Delivery(messages[i][1], attempts[i] + 1, messages[i][2]) for i in indices
            ]
            handled = await handle_batch(subscription, deliveries, NEVER_DEAD, system=IN_PROCESS)
            for index, outcome in zip(indices, handled, strict=True):
                if outcome.verdict is not Verdict.ACK and results[index] is None:
                    results[index] = outcome.error or RuntimeError(f"{outcome.verdict}")
        return results

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
