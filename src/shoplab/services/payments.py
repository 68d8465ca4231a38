"""The payments service: charges, refunds and voids payments on command."""

from shoplab.payments.adapters.tables import outbox
from shoplab.payments.bootstrap import PaymentsContext
from shoplab.platform.service import ServiceHost, ServiceParts


def build(host: ServiceHost) -> ServiceParts:
    payments = PaymentsContext(host.database)
    return ServiceParts(
        routers=[payments.router(host.auth), payments.internal_router()],
        subscriptions=payments.subscriptions(),
        outboxes=[outbox],
        start=payments.migrate,
    )
