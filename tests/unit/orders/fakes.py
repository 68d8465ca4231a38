"""Orders' ports in memory: its unit of work and repositories, and the other contexts.

Each fake subclasses the port it stands for, so mypy checks it against that port.
"""

import dataclasses
from datetime import datetime

from shoplab.orders.adapters.repository import ClaimedKey, OrderSummary
from shoplab.orders.domain.choreography import ChoreographedSaga
from shoplab.orders.domain.model import Order, OrderStatus
from shoplab.orders.domain.orchestration import OrchestratedSaga
from shoplab.orders.service_layer.ports import (
    PaymentMethods,
    PaymentResult,
    Payments,
    Price,
    PriceList,
    Settlement,
    StockReservations,
)
from shoplab.orders.service_layer.unit_of_work import (
    ChoreographyRepository,
    IdempotencyKeys,
    OrchestrationRepository,
    OrderRepository,
    OrdersUnitOfWork,
)
from shoplab.platform.time import now

from ..fakes import FakeRepository, FakeUnitOfWork


class FakeOrderRepository(FakeRepository[Order], OrderRepository):
    async def get(self, order_id: str, *, lock: bool = False) -> Order | None:
        return self._get(order_id)

    async def lock(self, order_id: str) -> OrderStatus | None:
        order = self._get(order_id)
        return order.status if order is not None else None

    async def add(self, order: Order) -> None:
        self._insert(order.order_id, _as_stored(order))

    async def save(self, order: Order) -> None:
        self._update(order.order_id, _as_stored(order))

    async def summaries_for(self, customer_id: str, limit: int) -> list[OrderSummary]:
        mine = [order for order in self._all() if order.customer_id == customer_id]
        mine.sort(key=lambda order: (order.created_at, order.order_id), reverse=True)
        return [_summary(order) for order in mine[:limit]]

    async def pending(self) -> int:
        return sum(order.status is OrderStatus.PENDING for order in self._all())


def _as_stored(order: Order) -> Order:
    """A table keeps the order's state, not its domain events."""
    return dataclasses.replace(order, events=[])


def _summary(order: Order) -> OrderSummary:
    return OrderSummary(
        order.order_id,
        order.status.value,
        order.reason.value if order.reason else None,
        order.total_cents,
        order.currency,
        order.created_at,
        order.updated_at,
    )


class FakeIdempotencyKeys(FakeRepository[ClaimedKey], IdempotencyKeys):
    async def claim(
        self, customer_id: str, key: str, fingerprint: str, order_id: str
    ) -> ClaimedKey:
        scoped = f"{customer_id}/{key}"
        if scoped not in self.rows:
            self._insert(scoped, ClaimedKey(order_id, fingerprint))
        return self.rows[scoped]

    async def holder(self, customer_id: str, key: str) -> ClaimedKey | None:
        return self.rows.get(f"{customer_id}/{key}")


class FakeOrchestrationRepository(FakeRepository[OrchestratedSaga], OrchestrationRepository):
    async def get(self, order_id: str, *, lock: bool = False) -> OrchestratedSaga | None:
        return self._get(order_id)

    async def add(self, saga: OrchestratedSaga) -> None:
        self._insert(saga.order_id, saga)

    async def save(self, saga: OrchestratedSaga) -> None:
        self._update(saga.order_id, saga)

    async def overdue(self, now: datetime, limit: int) -> list[str]:
        late = [s for s in self._all() if s.deadline is not None and s.deadline <= now]
        late.sort(key=lambda saga: saga.deadline or now)
        return [saga.order_id for saga in late[:limit]]


class FakeChoreographyRepository(FakeRepository[ChoreographedSaga], ChoreographyRepository):
    async def get(self, order_id: str, *, lock: bool = False) -> ChoreographedSaga | None:
        return self._get(order_id)

    async def add(self, saga: ChoreographedSaga) -> None:
        self._insert(saga.order_id, saga)

    async def save(self, saga: ChoreographedSaga) -> None:
        self._update(saga.order_id, saga)


class FakeOrdersUnitOfWork(FakeUnitOfWork, OrdersUnitOfWork):
    orders: FakeOrderRepository
    idempotency_keys: FakeIdempotencyKeys
    sagas: FakeOrchestrationRepository
    choreographies: FakeChoreographyRepository

    def __init__(self) -> None:
        self.orders = FakeOrderRepository()
        self.idempotency_keys = FakeIdempotencyKeys()
        self.sagas = FakeOrchestrationRepository()
        self.choreographies = FakeChoreographyRepository()
        super().__init__(self.orders, self.idempotency_keys, self.sagas, self.choreographies)


class FakePriceList(PriceList):
    """Catalog's prices, which a test may change between two placements."""

    def __init__(self, prices: dict[str, Price]) -> None:
        self.catalog = dict(prices)

    async def prices(self, skus: list[str]) -> dict[str, Price]:
        return {sku: self.catalog[sku] for sku in skus if sku in self.catalog}


class FakePaymentMethods(PaymentMethods):
    def __init__(self, *accepted: str) -> None:
        self.accepted = set(accepted)

    async def accepts(self, method: str) -> bool:
        return method in self.accepted


class FakeSettlement(Settlement):
    """Approves every order at once and remembers what it was asked to do."""

    def __init__(self) -> None:
        self.settled: list[str] = []
        self.cancelled: list[str] = []

    async def settle(self, uow: OrdersUnitOfWork, order: Order, method: str) -> None:
        self.settled.append(order.order_id)
        order.approve(now())

    async def cancel(self, uow: OrdersUnitOfWork, order: Order) -> None:
        self.cancelled.append(order.order_id)
        order.cancel(now())


class FakeStockReservations(StockReservations):
    """Inventory as orders sees it in the monolith: stock on hand, holds per order.

    It keeps its stock apart from the fake unit of work, so an order rolled back does
    not undo a hold here; the joined transaction that does is an integration test's
    (``tests/integration/monolith/test_monolith_placement.py``)."""

    def __init__(self, on_hand: dict[str, int]) -> None:
        self.on_hand = dict(on_hand)
        self.held: dict[str, dict[str, int]] = {}
        self.committed: list[str] = []
        self.released: list[str] = []
        self.returned: list[str] = []

    async def reserve(self, order_id: str, quantities: dict[str, int]) -> bool:
        if any(self.on_hand.get(sku, 0) < n for sku, n in quantities.items()):
            return False
        for sku, quantity in quantities.items():
            self.on_hand[sku] -= quantity
        self.held[order_id] = dict(quantities)
        return True

    async def commit(self, order_id: str) -> None:
        self.committed.append(order_id)

    async def release(self, order_id: str) -> None:
        self._put_back(order_id)
        self.released.append(order_id)

    async def return_stock(self, order_id: str) -> None:
        self._put_back(order_id)
        self.returned.append(order_id)

    def _put_back(self, order_id: str) -> None:
        for sku, quantity in self.held.pop(order_id, {}).items():
            self.on_hand[sku] += quantity


class FakePayments(Payments):
    """Payments as orders sees it in the monolith: an outcome per method, charges recorded."""

    def __init__(self, outcomes: dict[str, PaymentResult]) -> None:
        self.outcomes = outcomes
        self.charged: dict[str, int] = {}
        self.refunded: list[str] = []

    async def charge(
        self, order_id: str, amount_cents: int, currency: str, method: str
    ) -> PaymentResult:
        result = self.outcomes[method]
        if result is PaymentResult.CHARGED:
            self.charged[order_id] = amount_cents
        return result

    async def refund(self, order_id: str) -> None:
        self.refunded.append(order_id)
