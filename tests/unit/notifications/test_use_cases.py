"""Notifications' message handlers on fakes: one message to the customer per outcome.

The handlers run as the service runs them, in the chassis's idempotent consumer (on
the fake unit of work), so a duplicate delivery meets the inbox.
"""

from datetime import UTC, datetime

import pytest

from shoplab.contracts.events import (
    CustomerRegistered,
    OrderApproved,
    OrderCancelled,
    OrderRejected,
)
from shoplab.contracts.events.notifications import NotificationSent
from shoplab.contracts.events.orders import OrderOutcome
from shoplab.notifications.domain.model import NotificationKind, RecipientUnknown
from shoplab.notifications.service_layer import queries
from shoplab.notifications.service_layer.handlers import notify_outcome, remember_contact

from ..fakes import deliver
from .fakes import FakeNotificationsUnitOfWork, FakeSender

AT = datetime(2026, 1, 1, tzinfo=UTC)
OUTCOME = {"order_id": "o1", "customer_id": "ada", "total_cents": 9_000, "currency": "EUR"}


async def with_contact() -> FakeNotificationsUnitOfWork:
    uow = FakeNotificationsUnitOfWork()
    registered = CustomerRegistered(customer_id="ada", email="ada@example.org", name="Ada")
    await deliver(uow, remember_contact, registered)
    return uow


APPROVED = OrderApproved(**OUTCOME, updated_at=AT)
REJECTED = OrderRejected(**OUTCOME, updated_at=AT, reason="OUT_OF_STOCK")
CANCELLED = OrderCancelled(**OUTCOME, updated_at=AT, reason="CANCELLED_BY_CUSTOMER")


@pytest.mark.parametrize(
    ("outcome", "kind"),
    [
        (APPROVED, NotificationKind.ORDER_APPROVED),
        (REJECTED, NotificationKind.ORDER_REJECTED),
        (CANCELLED, NotificationKind.ORDER_CANCELLED),
    ],
)
async def test_each_outcome_sends_one_notification_and_announces_it(
    outcome: OrderOutcome, kind: NotificationKind
) -> None:
    uow, sender = await with_contact(), FakeSender()
    envelope = await deliver(uow, notify_outcome(sender), outcome)
    [sent] = sender.sent
    assert (sent.kind, sent.order_id, sent.recipient) == (kind, "o1", "ada@example.org")
    assert await queries.notifications_for(uow, "o1") == [sent]
    [announced] = uow.messages(NotificationSent)
    assert announced.notification_kind == kind.value
    assert (uow.published[-1].correlation_id, uow.published[-1].causation_id) == (
        "o1",
        envelope.message_id,
    )


async def test_an_outcome_delivered_twice_notifies_once() -> None:
    uow, sender = await with_contact(), FakeSender()
    first = await deliver(uow, notify_outcome(sender), APPROVED)
    await deliver(uow, notify_outcome(sender), APPROVED, again=first)
    assert len(sender.sent) == 1
    assert len(await queries.notifications_for(uow, "o1")) == 1
    assert len(uow.messages(NotificationSent)) == 1


async def test_an_outcome_before_the_registration_waits_and_records_nothing() -> None:
    uow, sender = FakeNotificationsUnitOfWork(), FakeSender()
    with pytest.raises(RecipientUnknown):
        await deliver(uow, notify_outcome(sender), APPROVED)
    assert sender.sent == []
    assert uow.published == []
    assert uow.inbox.rows == {}  # not handled: the broker delivers it again later


async def test_a_registration_seen_again_keeps_the_first_contact() -> None:
    uow = await with_contact()
    again = CustomerRegistered(customer_id="ada", email="other@example.org", name="Ada")
    await deliver(uow, remember_contact, again)
    contact = await uow.contacts.get("ada")
    assert contact is not None
    assert contact.email == "ada@example.org"
