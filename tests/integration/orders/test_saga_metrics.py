"""Each saga's outcome is counted once, after the transaction that settled the order commits.

Orders' real consumers, on a real database, in both styles, are handed the participants'
answers as a broker would: in order, then again (the same message, and the same answer
with a new message id), and once with a database that fails before the commit.
"""

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

import pytest
from prometheus_client import REGISTRY

from shoplab.contracts import events
from shoplab.contracts.envelope import Envelope, Message
from shoplab.orders.adapters.metrics import SagaStyle
from shoplab.orders.bootstrap import OrdersContext
from shoplab.orders.domain.model import OrderStatus
from shoplab.orders.domain.orchestration import Timeouts
from shoplab.orders.service_layer import services as orders
from shoplab.orders.service_layer.choreography import SettleByChoreography
from shoplab.orders.service_layer.commands import PlaceOrder
from shoplab.orders.service_layer.orchestration import SettleByOrchestration
from shoplab.orders.service_layer.ports import Collaborators, Price, Settlement
from shoplab.orders.service_layer.unit_of_work import SqlOrdersUnitOfWork
from shoplab.platform.auth import Principal
from shoplab.platform.messaging.consumers import Subscription
from shoplab.platform.persistence.database import Database, Transaction

SKU = "SKU-1"
TIMEOUTS = Timeouts(step=timedelta(seconds=5), attempts=6)
CUSTOMER = Principal(customer_id="c1", role="customer")
CANCEL_AFTER_SECONDS = 0.3


class FixedPrices:
    async def prices(self, skus: list[str]) -> dict[str, Price]:
        return {sku: Price(unit_price_cents=500, currency="USD") for sku in skus if sku == SKU}


class TestCards:
    __test__ = False

    async def accepts(self, method: str) -> bool:
        return method.startswith("pm_card_")


@dataclass
class InboxFaults:
    failures_left: int = 0


class FlakyUnitOfWork(SqlOrdersUnitOfWork):
    """Fails committing while ``faults`` says so: after the handler's effects and the inbox
    record, as a database lost at that moment would."""

    def __init__(
        self, database: Database, *, join: Transaction | None = None, faults: InboxFaults
    ) -> None:
        super().__init__(database, join=join)
        self._faults = faults

    async def commit(self) -> None:
        if self._joined is None and self._faults.failures_left:
            self._faults.failures_left -= 1
            raise ConnectionError("the database went away")
        await super().commit()


class FlakyOrders(OrdersContext):
    def __init__(self, database: Database, settlement: Settlement) -> None:
        collaborators = Collaborators(FixedPrices(), TestCards(), settlement)
        super().__init__(database, lambda _uow: collaborators)
        self.faults = InboxFaults()

    def uow(self, *, join: Transaction | None = None) -> SqlOrdersUnitOfWork:
        return FlakyUnitOfWork(self.database, join=join, faults=self.faults)


@dataclass(frozen=True)
class Style:
    name: SagaStyle
    settlement: Callable[[], Settlement]
    consumers: Callable[[OrdersContext], list[Subscription]]


STYLES = [
    Style(
        SagaStyle.ORCHESTRATION,
        lambda: SettleByOrchestration(TIMEOUTS),
        lambda context: context.orchestration_subscriptions(TIMEOUTS),
    ),
    Style(
        SagaStyle.CHOREOGRAPHY,
        SettleByChoreography,
        lambda context: context.choreography_subscriptions(),
    ),
]


@dataclass
class Shop:
    context: FlakyOrders
    consumers: dict[str, Subscription]
    style: SagaStyle

    async def place(self) -> str:
        command = PlaceOrder(CUSTOMER.customer_id, {SKU: 3}, "pm_card_visa")
        order = await orders.place_order(self.context.uow(), self.context.connect, command)
        return order.order_id

    async def answer(self, *answers: Message) -> Envelope:
        """Hand each answer to its consumer, as the broker would; returns the last envelope."""
        for answer in answers:
            envelope = Envelope.wrap(answer, correlation_id=getattr(answer, "order_id", None))
            await self.deliver(envelope)
        return envelope

    async def deliver(self, envelope: Envelope) -> None:
        await self.consumers[envelope.subject].handle(envelope)

    async def approve(self, order_id: str) -> Envelope:
        return await self.answer(
            events.StockReserved(order_id=order_id),
            events.PaymentCharged(order_id=order_id, amount_cents=1500),
            events.StockCommitted(order_id=order_id),
        )

    async def status(self, order_id: str) -> OrderStatus:
        return (await orders.get_order(self.context.uow(), order_id, CUSTOMER)).status

    def counted(self, outcome: str) -> tuple[float, float]:
        """(outcomes counted, durations observed) of this style for ``outcome``."""
        labels = {"style": self.style, "outcome": outcome}
        count = REGISTRY.get_sample_value("shoplab_saga_outcomes_total", labels)
        timed = REGISTRY.get_sample_value("shoplab_saga_duration_seconds_count", labels)
        return count or 0.0, timed or 0.0

    def seconds(self, outcome: str) -> float:
        labels = {"style": self.style, "outcome": outcome}
        return REGISTRY.get_sample_value("shoplab_saga_duration_seconds_sum", labels) or 0.0


@pytest.fixture(params=STYLES, ids=[style.name.value for style in STYLES])
async def shop(request: pytest.FixtureRequest, database: Database) -> Shop:
    style: Style = request.param
    context = FlakyOrders(database, style.settlement())
    await context.migrate()
    consumers = {consumer.subject: consumer for consumer in style.consumers(context)}
    return Shop(context, consumers, style.name)


async def test_an_approval_and_a_rejection_count_once_each_when_answered_twice(
    shop: Shop,
) -> None:
    approved_before, rejected_before = shop.counted("approved"), shop.counted("rejected")
    accepted, refused = await shop.place(), await shop.place()

    last = await shop.approve(accepted)
    await shop.deliver(last)  # redelivered: the inbox knows it
    await shop.answer(events.StockCommitted(order_id=accepted))  # answered again: too late
    short = events.StockReservationFailed(order_id=refused, reason="short")
    await shop.deliver(await shop.answer(short))
    await shop.answer(short)

    assert await shop.status(accepted) is OrderStatus.APPROVED
    assert await shop.status(refused) is OrderStatus.REJECTED
    assert shop.counted("approved") == (approved_before[0] + 1, approved_before[1] + 1)
    assert shop.counted("rejected") == (rejected_before[0] + 1, rejected_before[1] + 1)


async def test_a_settling_transaction_that_rolls_back_counts_only_once_it_commits(
    shop: Shop,
) -> None:
    before = shop.counted("rejected")
    order_id = await shop.place()
    short = Envelope.wrap(events.StockReservationFailed(order_id=order_id, reason="short"))

    shop.context.faults.failures_left = 1
    with pytest.raises(ConnectionError):
        await shop.deliver(short)
    assert await shop.status(order_id) is OrderStatus.PENDING
    assert shop.counted("rejected") == before

    await shop.deliver(short)  # the broker's redelivery
    assert await shop.status(order_id) is OrderStatus.REJECTED
    assert shop.counted("rejected") == (before[0] + 1, before[1] + 1)


async def test_a_cancellation_counts_as_cancelled_and_is_timed_from_its_request(
    shop: Shop,
) -> None:
    before, seconds_before = shop.counted("cancelled"), shop.seconds("cancelled")
    order_id = await shop.place()
    await shop.approve(order_id)
    await asyncio.sleep(CANCEL_AFTER_SECONDS)  # the customer keeps the order a while

    await orders.cancel_order(shop.context.uow(), shop.context.connect, order_id, CUSTOMER)
    refunded = events.PaymentRefunded(order_id=order_id, refunded_cents=1500)
    await shop.deliver(await shop.answer(refunded, events.StockReturned(order_id=order_id)))

    assert await shop.status(order_id) is OrderStatus.CANCELLED
    assert shop.counted("cancelled") == (before[0] + 1, before[1] + 1)
    assert 0 <= shop.seconds("cancelled") - seconds_before < CANCEL_AFTER_SECONDS
