"""The payments service: charges, refunds and voids payments on command."""

from shoplab.payments.adapters.tables import outbox
from shoplab.payments.bootstrap import PaymentsContext
from shoplab.payments.entrypoints.grpc_api import SERVICE
from shoplab.platform.service import ServiceHost, ServiceParts
from shoplab.services.allow_list import callers_of


def build(host: ServiceHost) -> ServiceParts:
    payments = PaymentsContext(host.database)
    return ServiceParts(
        routers=[payments.router(host.auth)],
        grpc_services=[payments.grpc_service()],
        grpc_callers=callers_of(SERVICE),
        subscriptions=payments.subscriptions(),
        outboxes=[outbox],
        start=payments.migrate,
    )
