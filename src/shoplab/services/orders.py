"""The orders service: takes orders and settles each one with a saga.

Placement asks catalog for prices and payments whether the method is accepted
(over gRPC, balanced and resilient), then stores the order ``PENDING`` and
publishes ``OrderPlaced``, in one transaction. ``SHOPLAB_SAGA`` chooses the style:

- ``orchestration`` (default): a saga in this service sends one command at a time
  and advances on the answers of inventory and payments; a timer sends late steps
  again or compensates them;
- ``choreography``: no commands and no timer; inventory and payments react to each
  other's events, and this service settles the order from the events it sees.
"""

from datetime import timedelta

from shoplab.orders.bootstrap import OrdersContext
from shoplab.orders.domain.orchestration import Timeouts
from shoplab.orders.service_layer.choreography import SettleByChoreography
from shoplab.orders.service_layer.orchestration import SettleByOrchestration
from shoplab.orders.service_layer.ports import Collaborators, Settlement
from shoplab.orders.service_layer.unit_of_work import OrdersUnitOfWork
from shoplab.platform.host import ServiceHost, ServiceParts, every
from shoplab.services.grpc_collaborators import GrpcPaymentMethods, GrpcPriceList

TIMER_SECONDS = 0.5


def build(host: ServiceHost) -> ServiceParts:
    timeouts = Timeouts(
        step=timedelta(seconds=host.settings.saga_step_timeout_seconds),
        attempts=host.settings.saga_step_attempts,
    )
    choreography = host.settings.saga == "choreography"
    settlement: Settlement = (
        SettleByChoreography() if choreography else SettleByOrchestration(timeouts)
    )
    collaborators = Collaborators(
        prices=GrpcPriceList(host.grpc_client("catalog")),
        methods=GrpcPaymentMethods(host.grpc_client("payments")),
        settlement=settlement,
    )

    def connect(_uow: OrdersUnitOfWork) -> Collaborators:
        return collaborators

    orders = OrdersContext(host.database, connect)
    if choreography:
        return ServiceParts(
            routers=[orders.router(host.auth), orders.choreography_router(host.auth)],
            subscriptions=orders.choreography_subscriptions(),
            outboxes=[orders.outbox],
            start=orders.migrate,
        )
    return ServiceParts(
        routers=[orders.router(host.auth), orders.orchestration_router(host.auth)],
        subscriptions=orders.orchestration_subscriptions(timeouts),
        outboxes=[orders.outbox],
        start=orders.migrate,
        background=[
            every(TIMER_SECONDS, lambda: orders.expire_overdue_steps(timeouts), "saga-timer")
        ],
    )
