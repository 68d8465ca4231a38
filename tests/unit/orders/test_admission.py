"""Admission on fakes: past the bound a placement is refused and leaves nothing behind.

The sagas in flight are counted as the service counts them: a placement that commits a
``PENDING`` order adds one, the committed answer that settles it removes one, and a
recount from the database sets them again.
"""

import asyncio
from datetime import timedelta

import pytest

from shoplab.contracts import events
from shoplab.orders.domain.model import Order, OrderStatus
from shoplab.orders.domain.orchestration import Timeouts
from shoplab.orders.service_layer import services
from shoplab.orders.service_layer.admission import Admission, PlacementsOverloaded, recount
from shoplab.orders.service_layer.commands import PlaceOrder
from shoplab.orders.service_layer.orchestration import SettleByOrchestration
from shoplab.orders.service_layer.orchestration_answers import ANSWERS, answer_handler
from shoplab.orders.service_layer.ports import Collaborators, PaymentResult, Price
from shoplab.orders.service_layer.settle_in_transaction import SettleInTransaction
from shoplab.platform.errors import Unavailable
from shoplab.platform.http.problems import problem_response

from ..fakes import deliver
from .fakes import (
    FakeOrdersUnitOfWork,
    FakePaymentMethods,
    FakePayments,
    FakePriceList,
    FakeStockReservations,
)

VISA = "pm_card_visa"
PATIENT = Timeouts(step=timedelta(minutes=5), attempts=2)
PRICES = {"KB-001": Price(4_500, "EUR")}


class SagaShop:
    """The microservices mode's placement on fakes, under a bound of ``bound`` sagas."""

    def __init__(self, bound: int) -> None:
        self.uow = FakeOrdersUnitOfWork()
        self.admission = Admission(bound)
        self.collaborators = Collaborators(
            FakePriceList(PRICES),
            FakePaymentMethods(VISA),
            SettleByOrchestration(PATIENT),
            self.admission,
        )

    async def place(self, key: str | None = None, quantity: int = 1) -> Order:
        command = PlaceOrder("ada", {"KB-001": quantity}, VISA, idempotency_key=key)
        return await services.place_order(self.uow, lambda _uow: self.collaborators, command)

    async def settle(self, order: Order) -> None:
        """Inventory answers short: the saga ends, and its order is ``REJECTED``."""
        answer = events.StockReservationFailed(order_id=order.order_id, reason="OUT_OF_STOCK")
        handler = answer_handler(ANSWERS[type(answer)], PATIENT, self.admission)
        await deliver(self.uow, handler, answer)


async def test_the_placement_past_the_bound_is_refused_and_creates_nothing() -> None:
    shop = SagaShop(bound=2)
    await shop.place()
    await shop.place()
    published, orders = list(shop.uow.published), len(shop.uow.orders.rows)
    with pytest.raises(PlacementsOverloaded) as refused:
        await shop.place(key="k-1")
    assert isinstance(refused.value, Unavailable), "a 503 at the edge"
    assert refused.value.retry_after_seconds == 1
    assert len(shop.uow.orders.rows) == orders
    assert shop.uow.idempotency_keys.rows == {}, "no claim of the key"
    assert shop.uow.published == published
    assert shop.admission.in_flight == 2


async def test_a_refused_placement_sent_again_once_a_saga_settles_is_placed_once() -> None:
    shop = SagaShop(bound=1)
    first = await shop.place()
    with pytest.raises(PlacementsOverloaded):
        await shop.place(key="k-1")
    await shop.settle(first)
    assert shop.admission.in_flight == 0
    placed = await shop.place(key="k-1")
    again = await shop.place(key="k-1")
    assert again.order_id == placed.order_id
    assert [o.order_id for o in shop.uow.orders.rows.values()].count(placed.order_id) == 1
    assert shop.admission.in_flight == 1


async def test_a_replayed_key_is_answered_even_when_the_bound_is_reached() -> None:
    shop = SagaShop(bound=1)
    placed = await shop.place(key="k-1")
    again = await shop.place(key="k-1")
    assert again.order_id == placed.order_id
    with pytest.raises(PlacementsOverloaded):
        await shop.place(key="k-2")


async def test_an_answer_that_settles_nothing_frees_no_place() -> None:
    shop = SagaShop(bound=5)
    order = await shop.place()
    handler = answer_handler(ANSWERS[events.StockReserved], PATIENT, shop.admission)
    await deliver(shop.uow, handler, events.StockReserved(order_id=order.order_id))
    assert shop.admission.in_flight == 1


async def test_a_recount_sets_the_sagas_from_the_database() -> None:
    """Another instance's sagas, or a restart: the database says what waits."""
    shop = SagaShop(bound=5)
    await shop.place()
    await shop.place()
    shop.admission.recount(0)
    await recount(lambda: shop.uow, shop.admission)
    assert shop.admission.in_flight == 2


async def test_a_bound_of_zero_admits_every_placement() -> None:
    shop = SagaShop(bound=0)
    for _ in range(5):
        await shop.place()
    assert shop.admission.in_flight == 5


class HeldPriceList(FakePriceList):
    """Prices that answer only once released: a placement held in progress."""

    def __init__(self) -> None:
        super().__init__(PRICES)
        self.asked = asyncio.Event()
        self.release = asyncio.Event()

    async def prices(self, skus: list[str]) -> dict[str, Price]:
        self.asked.set()
        await self.release.wait()
        return await super().prices(skus)


async def test_the_monolith_bounds_the_placements_in_progress() -> None:
    """Settled in its own transaction, a placement holds its place only while it runs."""
    uow = FakeOrdersUnitOfWork()
    admission = Admission(bound=1)
    prices = HeldPriceList()
    payments = FakePayments({VISA: PaymentResult.CHARGED})
    settlement = SettleInTransaction(FakeStockReservations({"KB-001": 10}), payments)
    collaborators = Collaborators(prices, FakePaymentMethods(VISA), settlement, admission)

    def place() -> "asyncio.Task[Order]":
        command = PlaceOrder("ada", {"KB-001": 1}, VISA)
        return asyncio.create_task(services.place_order(uow, lambda _u: collaborators, command))

    first = place()
    await prices.asked.wait()
    with pytest.raises(PlacementsOverloaded):
        await place()
    prices.release.set()
    assert (await first).status is OrderStatus.APPROVED
    assert admission.in_flight == 0
    assert (await place()).status is OrderStatus.APPROVED


def test_a_refusal_is_a_503_problem_with_retry_after() -> None:
    answer = problem_response(PlacementsOverloaded(retry_after_seconds=1))
    assert answer.status_code == 503
    assert answer.headers["Retry-After"] == "1"
    assert answer.media_type == "application/problem+json"
    assert b'"type":"https://shoplab.local/problems/service-overloaded"' in answer.body
