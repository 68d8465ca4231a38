"""Payments' ports in memory: its unit of work, its repositories and a card processor."""

from shoplab.payments.domain.charge_request import ChargeRequest
from shoplab.payments.domain.model import ChargeOutcome, Payment
from shoplab.payments.service_layer.ports import CardProcessor
from shoplab.payments.service_layer.unit_of_work import (
    ChargeRequests,
    PaymentRepository,
    PaymentsUnitOfWork,
)

from ..fakes import FakeRepository, FakeUnitOfWork


class FakePaymentRepository(FakeRepository[Payment], PaymentRepository):
    async def get(self, order_id: str, *, lock: bool = False) -> Payment | None:
        return self._get(order_id)

    async def add(self, payment: Payment) -> None:
        self._insert(payment.order_id, payment)

    async def save(self, payment: Payment) -> None:
        self._update(payment.order_id, payment)


class FakeChargeRequests(FakeRepository[ChargeRequest], ChargeRequests):
    async def get(self, order_id: str, *, lock: bool = False) -> ChargeRequest | None:
        return self._get(order_id)

    async def add(self, request: ChargeRequest) -> None:
        self._insert(request.order_id, request)

    async def save(self, request: ChargeRequest) -> None:
        self._update(request.order_id, request)


class FakePaymentsUnitOfWork(FakeUnitOfWork, PaymentsUnitOfWork):
    payments: FakePaymentRepository
    charge_requests: FakeChargeRequests

    def __init__(self) -> None:
        self.payments = FakePaymentRepository()
        self.charge_requests = FakeChargeRequests()
        super().__init__(self.payments, self.charge_requests)


class FakeCardProcessor(CardProcessor):
    """Answers per method, and remembers every charge it was asked for."""

    def __init__(self, outcomes: dict[str, ChargeOutcome]) -> None:
        self.outcomes = outcomes
        self.charges: list[tuple[str, int, str]] = []

    def accepts(self, method: str) -> bool:
        return method in self.outcomes

    async def charge(self, method: str, amount_cents: int, currency: str) -> ChargeOutcome:
        self.charges.append((method, amount_cents, currency))
        return self.outcomes[method]
