"""The orders service: takes orders and settles each one with an orchestrated saga.

Placement asks catalog for prices and payments whether the method is accepted
(over gRPC, balanced and resilient),
then stores the order ``PENDING`` with the saga's first command, in one
transaction. The saga advances on the answers of inventory and payments; a
timer sends late steps again or compensates them.
"""

from datetime import timedelta

from shoplab.orders.bootstrap import OrdersContext
from shoplab.orders.domain.saga import Timeouts
from shoplab.orders.service_layer.ports import Collaborators
from shoplab.orders.service_layer.saga import SettleBySaga
from shoplab.orders.service_layer.unit_of_work import OrdersUnitOfWork
from shoplab.platform.service import ServiceHost, ServiceParts, every
from shoplab.services.grpc_collaborators import GrpcPaymentMethods, GrpcPriceList

TIMER_SECONDS = 0.5


def build(host: ServiceHost) -> ServiceParts:
    timeouts = Timeouts(
        step=timedelta(seconds=host.settings.saga_step_timeout_seconds),
        attempts=host.settings.saga_step_attempts,
    )
    collaborators = Collaborators(
        prices=GrpcPriceList(host.grpc_client("catalog")),
        methods=GrpcPaymentMethods(host.grpc_client("payments")),
        settlement=SettleBySaga(timeouts),
    )

    def connect(_uow: OrdersUnitOfWork) -> Collaborators:
        return collaborators

    orders = OrdersContext(host.database, connect)
    return ServiceParts(
        routers=[orders.router(host.auth), orders.saga_router(host.auth)],
        subscriptions=orders.saga_subscriptions(timeouts),
        outboxes=[orders.outbox],
        start=orders.migrate,
        background=[
            every(TIMER_SECONDS, lambda: orders.expire_overdue_steps(timeouts), "saga-timer")
        ],
    )
