"""The inventory service: stock levels; reserves, commits, releases and returns stock.

It does so on command (an orchestrated saga) and, with ``SHOPLAB_SAGA=choreography``,
also in reaction to the events of orders and payments.
"""

from shoplab import seed
from shoplab.inventory.adapters.tables import outbox
from shoplab.inventory.bootstrap import InventoryContext
from shoplab.inventory.entrypoints.grpc_api import SERVICE
from shoplab.platform.host import ServiceHost, ServiceParts
from shoplab.services.allow_list import callers_of


def build(host: ServiceHost) -> ServiceParts:
    inventory = InventoryContext(host.database)

    async def start() -> None:
        await inventory.migrate()
        await seed.seed_inventory(inventory)

    subscriptions = inventory.subscriptions()
    if host.settings.saga == "choreography":
        subscriptions += inventory.choreography_subscriptions()
    return ServiceParts(
        routers=[inventory.router(host.auth)],
        grpc_services=[inventory.grpc_service()],
        grpc_callers=callers_of(SERVICE),
        subscriptions=subscriptions,
        outboxes=[outbox],
        start=start,
    )
