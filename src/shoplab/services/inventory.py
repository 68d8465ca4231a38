"""The inventory service: stock levels; reserves, commits, releases and returns stock on command."""

from shoplab import seed
from shoplab.inventory.adapters.tables import outbox
from shoplab.inventory.bootstrap import InventoryContext
from shoplab.platform.service import ServiceHost, ServiceParts


def build(host: ServiceHost) -> ServiceParts:
    inventory = InventoryContext(host.database)

    async def start() -> None:
        await inventory.migrate()
        await seed.seed_inventory(inventory)

    return ServiceParts(
        routers=[inventory.router(host.auth), inventory.internal_router()],
        subscriptions=inventory.subscriptions(),
        outboxes=[outbox],
        start=start,
    )
