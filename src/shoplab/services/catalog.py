"""The catalog service: products and prices; asks inventory for what is available."""

from shoplab import seed
from shoplab.catalog.bootstrap import CatalogContext
from shoplab.catalog.entrypoints.grpc_api import SERVICE
from shoplab.platform.host import ServiceHost, ServiceParts
from shoplab.services.allow_list import callers_of
from shoplab.services.grpc_collaborators import GrpcStockAvailability


def build(host: ServiceHost) -> ServiceParts:
    catalog = CatalogContext(host.database)

    async def start() -> None:
        await catalog.migrate()
        await seed.seed_catalog(catalog)

    stock = GrpcStockAvailability(host.grpc_client("inventory"))
    return ServiceParts(
        routers=[catalog.router(stock)],
        grpc_services=[catalog.grpc_service()],
        grpc_callers=callers_of(SERVICE),
        start=start,
    )
