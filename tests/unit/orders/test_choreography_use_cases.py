"""The choreographed saga through orders' service layer, on fakes.

Orders sends no command: it announces the placement, records each participant event
as a fact, and settles the order when the facts decide it, whatever their order.
"""

from collections.abc import Callable

import pytest

from shoplab.contracts import events
from shoplab.contracts.envelope import Envelope, Message
from shoplab.orders.domain.model import Order, OrderStatus
from shoplab.orders.service_layer import services
from shoplab.orders.service_layer.choreography import FACTS, SettleByChoreography, fact_handler
from shoplab.orders.service_layer.commands import PlaceOrder
from shoplab.orders.service_layer.ports import Collaborators, Price
from shoplab.platform.auth import Principal

from ..fakes import deliver
from .fakes import FakeOrdersUnitOfWork, FakePaymentMethods, FakePriceList

VISA = "pm_card_visa"


def by_choreography() -> Callable[[FakeOrdersUnitOfWork], Collaborators]:
    collaborators = Collaborators(
        FakePriceList({"KB-001": Price(4_500, "EUR")}),
        FakePaymentMethods(VISA),
        SettleByChoreography(),
    )
    return lambda _uow: collaborators


async def placed(uow: FakeOrdersUnitOfWork) -> Order:
    command = PlaceOrder("ada", {"KB-001": 2}, VISA)
    return await services.place_order(uow, by_choreography(), command)


async def saw(uow: FakeOrdersUnitOfWork, *messages: Message) -> list[Envelope]:
    """Deliver participant events to orders' consumers, one each, in this order."""
    return [await deliver(uow, fact_handler(FACTS[type(message)]), message) for message in messages]


async def status_of(uow: FakeOrdersUnitOfWork, order_id: str) -> OrderStatus:
    order = await uow.orders.get(order_id)
    assert order is not None
    return order.status


async def test_a_placement_announces_the_order_and_sends_no_command() -> None:
    uow = FakeOrdersUnitOfWork()
    order = await placed(uow)
    assert uow.published_types() == ["OrderPlaced"]
    assert await uow.choreographies.get(order.order_id) is not None
    assert await uow.sagas.get(order.order_id) is None


async def test_the_stock_committed_after_the_charge_approves_the_order_once() -> None:
    uow = FakeOrdersUnitOfWork()
    order = await placed(uow)
    reserved = events.StockReserved(order_id=order.order_id)
    charged = events.PaymentCharged(order_id=order.order_id, amount_cents=9_000)
    committed = events.StockCommitted(order_id=order.order_id)
    await saw(uow, reserved, charged, committed)
    assert await status_of(uow, order.order_id) is OrderStatus.APPROVED
    await saw(uow, committed, reserved)  # seen again, under new message ids
    assert uow.published_types() == ["OrderPlaced", "OrderApproved"]


@pytest.mark.parametrize("failure_first", [True, False])
async def test_a_failed_payment_rejects_once_the_stock_is_released_in_either_order(
    failure_first: bool,
) -> None:
    uow = FakeOrdersUnitOfWork()
    order = await placed(uow)
    failed = events.PaymentFailed(order_id=order.order_id, outcome="INSUFFICIENT_FUNDS")
    released = events.StockReleased(order_id=order.order_id)
    await saw(uow, failed if failure_first else released)
    assert await status_of(uow, order.order_id) is OrderStatus.PENDING
    await saw(uow, released if failure_first else failed)
    assert [r.reason for r in uow.messages(events.OrderRejected)] == ["INSUFFICIENT_FUNDS"]


async def test_a_cancellation_is_requested_and_settled_when_the_stock_is_back() -> None:
    uow = FakeOrdersUnitOfWork()
    order = await placed(uow)
    await saw(
        uow,
        events.StockReserved(order_id=order.order_id),
        events.PaymentCharged(order_id=order.order_id, amount_cents=9_000),
        events.StockCommitted(order_id=order.order_id),
    )
    ada = Principal("ada", "customer")
    await services.cancel_order(uow, by_choreography(), order.order_id, ada)
    assert uow.published_types()[-1] == "OrderCancellationRequested"
    assert await status_of(uow, order.order_id) is OrderStatus.APPROVED
    await saw(
        uow,
        events.PaymentRefunded(order_id=order.order_id, refunded_cents=9_000),
        events.StockReturned(order_id=order.order_id),
    )
    assert await status_of(uow, order.order_id) is OrderStatus.CANCELLED
    assert uow.published_types()[-1] == "OrderCancelled"
