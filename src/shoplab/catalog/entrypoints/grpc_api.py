"""Catalog's gRPC answers to other services (microservices mode): current prices, from
the catalog's own use cases, under the ``shoplab.catalog.v1`` contract."""

from collections.abc import Callable

import grpc
import grpc.aio
from typing_extensions import override

from shoplab.catalog.service_layer import services
from shoplab.catalog.service_layer.unit_of_work import CatalogUnitOfWork
from shoplab.contracts.grpc.catalog.v1 import catalog_pb2, catalog_pb2_grpc
from shoplab.contracts.grpc.catalog.v1.catalog_pb2 import GetPricesRequest, GetPricesResponse, Price
from shoplab.platform.grpc.server import GrpcService

SERVICE = catalog_pb2.DESCRIPTOR.services_by_name["Catalog"].full_name
MAX_SKUS = 100
"""At most this many skus per call: one call's work stays bounded (an order has 20 lines)."""


class CatalogServicer(catalog_pb2_grpc.CatalogServicer):
    def __init__(self, new_uow: Callable[[], CatalogUnitOfWork]) -> None:
        self._new_uow = new_uow

    @override
    async def GetPrices(
        self,
        request: GetPricesRequest,
        context: grpc.aio.ServicerContext[GetPricesRequest, GetPricesResponse],
    ) -> GetPricesResponse:
        if len(request.skus) > MAX_SKUS:
            await context.abort(grpc.StatusCode.INVALID_ARGUMENT, f"At most {MAX_SKUS} skus.")
        products = await services.price_list(self._new_uow(), request.skus)
        return GetPricesResponse(
            prices={
                sku: Price(unit_price_cents=product.price_cents, currency=product.currency)
                for sku, product in products.items()
            }
        )


def grpc_service(new_uow: Callable[[], CatalogUnitOfWork]) -> GrpcService:
    servicer = CatalogServicer(new_uow)
    return GrpcService(
        SERVICE, lambda server: catalog_pb2_grpc.add_CatalogServicer_to_server(servicer, server)
    )
