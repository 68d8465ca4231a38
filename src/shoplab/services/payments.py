"""The payments service: charges, refunds and voids payments.

It does so on command (an orchestrated saga) and, with ``SHOPLAB_SAGA=choreography``,
also in reaction to the events of orders and inventory.
"""

from shoplab.payments.adapters.tables import outbox
from shoplab.payments.bootstrap import PaymentsContext
from shoplab.payments.entrypoints.grpc_api import SERVICE
from shoplab.platform.host import ServiceHost, ServiceParts
from shoplab.services.allow_list import callers_of


def build(host: ServiceHost) -> ServiceParts:
    payments = PaymentsContext(host.database)
    subscriptions = payments.subscriptions()
    if host.settings.saga == "choreography":
        subscriptions += payments.choreography_subscriptions()
    return ServiceParts(
        routers=[payments.router(host.auth)],
        grpc_services=[payments.grpc_service()],
        grpc_callers=callers_of(SERVICE),
        subscriptions=subscriptions,
        outboxes=[outbox],
        start=payments.migrate,
    )
