"""Inventory's gRPC answers to other services (microservices mode): what can be ordered now,
from inventory's own use cases, under the ``shoplab.inventory.v1`` contract."""

from collections.abc import Callable

import grpc.aio
from typing_extensions import override

from shoplab.contracts.grpc.inventory.v1 import inventory_pb2, inventory_pb2_grpc
from shoplab.contracts.grpc.inventory.v1.inventory_pb2 import (
    GetAvailabilityRequest,
    GetAvailabilityResponse,
)
from shoplab.inventory.domain.model import UnknownSku
from shoplab.inventory.service_layer import services
from shoplab.inventory.service_layer.unit_of_work import InventoryUnitOfWork
from shoplab.platform.grpc.server import GrpcService

SERVICE = inventory_pb2.DESCRIPTOR.services_by_name["Inventory"].full_name


class InventoryServicer(inventory_pb2_grpc.InventoryServicer):
    def __init__(self, new_uow: Callable[[], InventoryUnitOfWork]) -> None:
        self._new_uow = new_uow

    @override
    async def GetAvailability(
        self,
        request: GetAvailabilityRequest,
        context: grpc.aio.ServicerContext[GetAvailabilityRequest, GetAvailabilityResponse],
    ) -> GetAvailabilityResponse:
        try:
            item = await services.stock_level(self._new_uow(), request.sku)
        except UnknownSku:
            return GetAvailabilityResponse(available=0)
        return GetAvailabilityResponse(available=item.available)


def grpc_service(new_uow: Callable[[], InventoryUnitOfWork]) -> GrpcService:
    servicer = InventoryServicer(new_uow)
    return GrpcService(
        SERVICE, lambda server: inventory_pb2_grpc.add_InventoryServicer_to_server(servicer, server)
    )
