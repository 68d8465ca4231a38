"""The catalog service: products and prices; asks inventory for what is available."""

from shoplab import seed
from shoplab.catalog.bootstrap import CatalogContext
from shoplab.platform.service import ServiceHost, ServiceParts
from shoplab.services.collaborators import RemoteStockAvailability


def build(host: ServiceHost) -> ServiceParts:
    catalog = CatalogContext(host.database)

    async def start() -> None:
        await catalog.migrate()
        await seed.seed_catalog(catalog)

    stock = RemoteStockAvailability(host.client("inventory"))
    return ServiceParts(routers=[catalog.router(stock), catalog.internal_router()], start=start)
