"""The orders context's bootstrap: its one face, for the monolith and for its service.

In the monolith (``OrdersContext.settled_in_transaction``) the other contexts settle each
order inside the order's own transaction. As a service (``service``) orders asks catalog
for prices and payments whether a method is accepted, over gRPC, and settles every order
with a saga in the style ``SHOPLAB_SAGA`` chooses:

- ``orchestration`` (default): a saga in this service sends one command at a time and
  advances on the answers of inventory and payments; a timer sends late steps again or
  compensates them;
- ``choreography``: no commands and no timer; inventory and payments react to each
  other's events, and this service settles the order from the events it sees.
"""

from collections.abc import Callable

from fastapi import APIRouter

from shoplab.contracts.views import OrderView
from shoplab.orders.adapters.remote import GrpcPaymentMethods, GrpcPriceList
from shoplab.orders.adapters.tables import MIGRATIONS, outbox
from shoplab.orders.domain.orchestration import Timeouts
from shoplab.orders.entrypoints.api import build_router, order_view
from shoplab.orders.entrypoints.saga_api import (
    build_no_saga_router,
    build_saga_router,
    choreographed,
)
from shoplab.orders.service_layer import services
from shoplab.orders.service_layer.admission import Admission, recount
from shoplab.orders.service_layer.choreography import FACTS, SettleByChoreography, fact_handler
from shoplab.orders.service_layer.orchestration import SettleByOrchestration, expire_overdue
from shoplab.orders.service_layer.orchestration_answers import ANSWERS, answer_handler
from shoplab.orders.service_layer.ports import Collaborators, Partners
from shoplab.orders.service_layer.services import Connect
from shoplab.orders.service_layer.settle_in_transaction import SettleInTransaction
from shoplab.orders.service_layer.unit_of_work import SqlOrdersUnitOfWork
from shoplab.orders.settings import OrdersSettings
from shoplab.platform.auth import Authenticator, Principal
from shoplab.platform.host import ServiceHost, ServiceParts, every
from shoplab.platform.messaging.consumers import Subscription, idempotent_consumer
from shoplab.platform.persistence.database import Database, Transaction
from shoplab.platform.persistence.migrate import upgrade
from shoplab.platform.persistence.unit_of_work import SqlUnitOfWork

TIMER_SECONDS = 1.0
"""How often the orchestrated saga's timer looks for late steps: a step's deadline is seconds
away (``SHOPLAB_SAGA_STEP_TIMEOUT_SECONDS``), so a second late at most, for one query a second."""
RECOUNT_SECONDS = 2.0
"""How often admission's count of sagas in flight is set again from the database."""

PartnersOf = Callable[[SqlUnitOfWork], Partners]
"""The other contexts, joined to the transaction of one order's unit of work (the monolith)."""


class OrdersContext:
    outbox = outbox

    def __init__(
        self,
        database: Database,
        connect: Connect[SqlOrdersUnitOfWork],
        admission: Admission | None = None,
    ) -> None:
        self.database = database
        self.connect = connect
        self.admission = admission

    @classmethod
    def settled_in_transaction(cls, database: Database, partners: PartnersOf) -> "OrdersContext":
        """Orders in the monolith: stock and payment are settled inside the order's transaction;
        past the bound, placements in progress refuse the next one."""
        admission = Admission(OrdersSettings().orders_max_in_flight)

        def connect(uow: SqlOrdersUnitOfWork) -> Collaborators:
            joined = partners(uow)
            settlement = SettleInTransaction(joined.stock, joined.payments)
            return Collaborators(joined.prices, joined.methods, settlement, admission)

        return cls(database, connect, admission)

    def uow(self, *, join: Transaction | None = None) -> SqlOrdersUnitOfWork:
        return SqlOrdersUnitOfWork(self.database, join=join)

    async def migrate(self) -> None:
        await upgrade(self.database, MIGRATIONS)

    def router(self, auth: Authenticator) -> APIRouter:
        return build_router(self.uow, self.connect, auth)

    def orchestration_router(self, auth: Authenticator) -> APIRouter:
        return build_saga_router(self.uow, auth)

    def choreography_router(self, auth: Authenticator) -> APIRouter:
        return build_saga_router(self.uow, auth, choreographed)

    def no_saga_router(self, auth: Authenticator) -> APIRouter:
        """The saga view where orders settle in one transaction (the monolith): always 404."""
        return build_no_saga_router(auth)

    async def order_view(self, order_id: str, principal: Principal) -> OrderView:
        """The caller's order as its endpoint shows it; ``OrderNotFound`` if it is not theirs."""
        return order_view(await services.get_order(self.uow(), order_id, principal))

    def orchestration_subscriptions(self, timeouts: Timeouts) -> list[Subscription]:
        """The answers the saga waits for, one durable consumer each."""
        return [
            idempotent_consumer(
                f"orders.saga.{answer.__name__}",
                answer,
                self.uow,
                answer_handler(reply_of, timeouts, self.admission),
            )
            for answer, reply_of in ANSWERS.items()
        ]

    def choreography_subscriptions(self) -> list[Subscription]:
        """The participants' events a choreographed saga is settled by, one consumer each."""
        return [
            idempotent_consumer(
                f"orders.choreography.{event.__name__}",
                event,
                self.uow,
                fact_handler(fact_of, self.admission),
            )
            for event, fact_of in FACTS.items()
        ]

    async def expire_overdue_steps(self, timeouts: Timeouts, budget: int = 100) -> int:
        return await expire_overdue(self.uow, timeouts, budget, self.admission)

    async def recount_in_flight(self) -> None:
        if self.admission is not None:
            await recount(self.uow, self.admission)

    async def start(self) -> None:
        await self.migrate()
        await self.recount_in_flight()


def service(host: ServiceHost) -> ServiceParts:
    """The orders service: prices and methods over gRPC, every order settled by a saga."""
    settings = OrdersSettings()
    timeouts = settings.timeouts()
    choreography = host.settings.saga == "choreography"
    admission = Admission(settings.orders_max_in_flight)
    collaborators = Collaborators(
        prices=GrpcPriceList(host.grpc_client("catalog")),
        methods=GrpcPaymentMethods(host.grpc_client("payments")),
        settlement=SettleByChoreography() if choreography else SettleByOrchestration(timeouts),
        admission=admission,
    )
    orders = OrdersContext(host.database, lambda _uow: collaborators, admission)
    recounting = every(RECOUNT_SECONDS, orders.recount_in_flight, "admission-recount")
    if choreography:
        return ServiceParts(
            routers=[orders.router(host.auth), orders.choreography_router(host.auth)],
            subscriptions=orders.choreography_subscriptions(),
            outboxes=[orders.outbox],
            start=orders.start,
            background=[recounting],
        )
    budget = max(1, round(settings.saga_resends_per_second * TIMER_SECONDS))
    return ServiceParts(
        routers=[orders.router(host.auth), orders.orchestration_router(host.auth)],
        subscriptions=orders.orchestration_subscriptions(timeouts),
        outboxes=[orders.outbox],
        start=orders.start,
        background=[
            every(
                TIMER_SECONDS, lambda: orders.expire_overdue_steps(timeouts, budget), "saga-timer"
            ),
            recounting,
        ],
    )
