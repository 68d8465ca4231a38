"""Who may call whom over gRPC: one table for the whole system.

Every gRPC server refuses a caller that is not listed for the service it calls
(PERMISSION_DENIED): a wiring mistake shows up at once instead of becoming a
hidden dependency.
"""

from shoplab.catalog.entrypoints import grpc_api as catalog
from shoplab.inventory.entrypoints import grpc_api as inventory
from shoplab.notifications.entrypoints import grpc_api as notifications
from shoplab.payments.entrypoints import grpc_api as payments

CALLERS: dict[str, frozenset[str]] = {
    catalog.SERVICE: frozenset({"orders"}),
    inventory.SERVICE: frozenset({"catalog"}),
    payments.SERVICE: frozenset({"orders", "gateway"}),
    notifications.SERVICE: frozenset({"gateway"}),
}


def callers_of(service: str) -> dict[str, frozenset[str]]:
    """The allow-list entry of one gRPC service, as ``ServiceParts.grpc_callers`` wants it."""
    return {service: CALLERS[service]}
