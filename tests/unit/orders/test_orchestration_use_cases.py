"""The orchestrated saga through the service layer, on fakes: placement, answers, the timer.

Answers arrive as the service delivers them: through the chassis's idempotent consumer,
here on the fake unit of work, so a duplicate delivery meets the inbox as it would.
"""

from collections.abc import Callable
from datetime import timedelta

from prometheus_client import REGISTRY

from shoplab.contracts import commands, events
from shoplab.contracts.envelope import Envelope, Message
from shoplab.orders.domain.model import Order, OrderStatus, Reason
from shoplab.orders.domain.orchestration import Timeouts
from shoplab.orders.domain.saga import SagaState
from shoplab.orders.service_layer import services
from shoplab.orders.service_layer.commands import PlaceOrder
from shoplab.orders.service_layer.orchestration import SettleByOrchestration, expire_overdue
from shoplab.orders.service_layer.orchestration_answers import ANSWERS, answer_handler
from shoplab.orders.service_layer.ports import Collaborators, Price
from shoplab.platform.auth import Principal

from ..fakes import deliver
from .fakes import FakeOrdersUnitOfWork, FakePaymentMethods, FakePriceList

VISA = "pm_card_visa"
PATIENT = Timeouts(step=timedelta(minutes=5), attempts=2)
IMPATIENT = Timeouts(step=timedelta(0), attempts=2)
"""Every step is late as soon as it is sent: the timer acts at its next tick."""


def by_saga(timeouts: Timeouts) -> Callable[[FakeOrdersUnitOfWork], Collaborators]:
    """The microservices mode's collaborators: every order is settled by a saga."""
    collaborators = Collaborators(
        FakePriceList({"KB-001": Price(4_500, "EUR")}),
        FakePaymentMethods(VISA),
        SettleByOrchestration(timeouts),
    )
    return lambda _uow: collaborators


async def placed(uow: FakeOrdersUnitOfWork, timeouts: Timeouts = PATIENT) -> Order:
    command = PlaceOrder("ada", {"KB-001": 2}, VISA)
    return await services.place_order(uow, by_saga(timeouts), command)


async def tell(
    uow: FakeOrdersUnitOfWork, message: Message, again: Envelope | None = None
) -> Envelope:
    """Deliver a participant's answer to the saga's consumer of its type."""
    handler = answer_handler(ANSWERS[type(message)], PATIENT)
    return await deliver(uow, handler, message, again=again)


async def status_of(uow: FakeOrdersUnitOfWork, order_id: str) -> OrderStatus:
    order = await uow.orders.get(order_id)
    assert order is not None
    return order.status


def approvals_counted() -> float:
    labels = {"style": "orchestration", "outcome": "approved"}
    return REGISTRY.get_sample_value("shoplab_saga_outcomes_total", labels) or 0.0


async def test_a_placement_stores_a_pending_order_and_sends_the_reservation() -> None:
    uow = FakeOrdersUnitOfWork()
    order = await placed(uow)
    assert await status_of(uow, order.order_id) is OrderStatus.PENDING
    saga = await uow.sagas.get(order.order_id)
    assert saga is not None
    assert saga.state is SagaState.RESERVING_STOCK
    assert uow.published_types() == ["OrderPlaced", "ReserveStock"]
    assert uow.messages(commands.ReserveStock)[0].lines == {"KB-001": 2}


async def test_each_answer_sends_the_next_command_caused_by_it() -> None:
    uow = FakeOrdersUnitOfWork()
    order = await placed(uow)
    reserved = await tell(uow, events.StockReserved(order_id=order.order_id))
    charge = uow.published[-1]
    assert (charge.type, charge.causation_id) == ("ChargePayment", reserved.message_id)
    assert uow.messages(commands.ChargePayment)[0].amount_cents == 9_000
    await tell(uow, events.PaymentCharged(order_id=order.order_id, amount_cents=9_000))
    assert uow.published_types()[-1] == "CommitStock"


async def test_the_last_answer_approves_the_order_and_counts_it_once_committed() -> None:
    uow = FakeOrdersUnitOfWork()
    order = await placed(uow)
    await tell(uow, events.StockReserved(order_id=order.order_id))
    await tell(uow, events.PaymentCharged(order_id=order.order_id, amount_cents=9_000))
    before = approvals_counted()
    committed = await tell(uow, events.StockCommitted(order_id=order.order_id))
    assert await status_of(uow, order.order_id) is OrderStatus.APPROVED
    assert uow.published_types()[-1] == "OrderApproved"
    assert approvals_counted() == before + 1
    await tell(uow, events.StockCommitted(order_id=order.order_id), committed)
    assert approvals_counted() == before + 1
    assert uow.published_types().count("OrderApproved") == 1


async def test_an_answer_that_rolls_back_settles_nothing_and_counts_nothing() -> None:
    uow = FakeOrdersUnitOfWork()
    order = await placed(uow)
    await tell(uow, events.StockReserved(order_id=order.order_id))
    await tell(uow, events.PaymentCharged(order_id=order.order_id, amount_cents=9_000))
    before, published = approvals_counted(), list(uow.published)
    answer = events.StockCommitted(order_id=order.order_id)
    handle = answer_handler(ANSWERS[events.StockCommitted], PATIENT)
    async with uow:  # the handler runs, then the transaction ends without a commit
        await handle(answer, Envelope.wrap(answer), uow)
    assert await status_of(uow, order.order_id) is OrderStatus.PENDING
    assert (uow.published, approvals_counted()) == (published, before)


async def test_a_declined_charge_releases_the_stock_then_rejects() -> None:
    uow = FakeOrdersUnitOfWork()
    order = await placed(uow)
    await tell(uow, events.StockReserved(order_id=order.order_id))
    await tell(uow, events.PaymentFailed(order_id=order.order_id, outcome="DECLINED"))
    assert uow.published_types()[-1] == "ReleaseStock"
    assert await status_of(uow, order.order_id) is OrderStatus.PENDING
    await tell(uow, events.StockReleased(order_id=order.order_id))
    rejected = uow.messages(events.OrderRejected)
    assert [r.reason for r in rejected] == [Reason.PAYMENT_DECLINED.value]


async def test_an_answer_the_saga_no_longer_waits_for_changes_nothing() -> None:
    uow = FakeOrdersUnitOfWork()
    order = await placed(uow)
    await tell(uow, events.StockReservationFailed(order_id=order.order_id, reason="short"))
    assert await status_of(uow, order.order_id) is OrderStatus.REJECTED
    published = list(uow.published)
    await tell(uow, events.StockReserved(order_id=order.order_id))
    assert uow.published == published


async def test_the_timer_sends_a_late_step_again() -> None:
    uow = FakeOrdersUnitOfWork()
    order = await placed(uow, IMPATIENT)
    assert await expire_overdue(lambda: uow, IMPATIENT) == 1
    assert uow.published_types() == ["OrderPlaced", "ReserveStock", "ReserveStock"]
    saga = await uow.sagas.get(order.order_id)
    assert saga is not None
    assert saga.attempts == 2


async def test_a_silent_reservation_is_sent_again_and_the_order_not_rejected() -> None:
    """Inventory late past every attempt: the order waits, and is approved once it answers."""
    uow = FakeOrdersUnitOfWork()
    order = await placed(uow, IMPATIENT)
    for _ in range(IMPATIENT.attempts + 2):
        await expire_overdue(lambda: uow, IMPATIENT)
    assert set(uow.published_types()[1:]) == {"ReserveStock"}
    assert await status_of(uow, order.order_id) is OrderStatus.PENDING
    assert uow.messages(events.OrderRejected) == []
    await tell(uow, events.StockReserved(order_id=order.order_id))
    assert uow.published_types()[-1] == "ChargePayment"


async def test_the_timer_sends_again_at_most_its_budget_in_one_pass() -> None:
    """A backlog of late sagas is not multiplied: the oldest go first, the rest wait."""
    uow = FakeOrdersUnitOfWork()
    for _ in range(5):
        await placed(uow, IMPATIENT)
    assert await expire_overdue(lambda: uow, IMPATIENT, limit=2) == 2
    assert uow.published_types().count("ReserveStock") == 5 + 2
    assert await expire_overdue(lambda: uow, IMPATIENT, limit=2) == 2
    assert uow.published_types().count("ReserveStock") == 5 + 4


async def test_the_timer_leaves_a_step_within_its_deadline_alone() -> None:
    uow = FakeOrdersUnitOfWork()
    await placed(uow, PATIENT)
    assert await expire_overdue(lambda: uow, PATIENT) == 0
    assert uow.published_types() == ["OrderPlaced", "ReserveStock"]


async def test_cancelling_an_approved_order_refunds_then_returns_the_stock() -> None:
    uow = FakeOrdersUnitOfWork()
    order = await placed(uow)
    for answer in (
        events.StockReserved(order_id=order.order_id),
        events.PaymentCharged(order_id=order.order_id, amount_cents=9_000),
        events.StockCommitted(order_id=order.order_id),
    ):
        await tell(uow, answer)
    ada = Principal("ada", "customer")
    await services.cancel_order(uow, by_saga(PATIENT), order.order_id, ada)
    assert uow.published_types()[-1] == "RefundPayment"
    assert await status_of(uow, order.order_id) is OrderStatus.APPROVED
    await tell(uow, events.PaymentRefunded(order_id=order.order_id, refunded_cents=9_000))
    await tell(uow, events.StockReturned(order_id=order.order_id))
    assert await status_of(uow, order.order_id) is OrderStatus.CANCELLED
    assert uow.published_types()[-1] == "OrderCancelled"
