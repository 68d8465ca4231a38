"""Catalog's port answered by the inventory service over gRPC (the microservices mode).

In the monolith inventory answers the same port in-process. Here any live instance of the
inventory service answers, under catalog's resilience policy for it; one that cannot
becomes ``Unavailable``, a 503 at the edge. Only the published
``shoplab.inventory.v1`` contract is used (``contracts/proto``).
"""

from shoplab.contracts.grpc.inventory.v1.inventory_pb2 import GetAvailabilityRequest
from shoplab.contracts.grpc.inventory.v1.inventory_pb2_grpc import InventoryStub
from shoplab.platform.grpc.client import GrpcClient


class GrpcStockAvailability:
    """Catalog's ``StockAvailability``: what the inventory service says can be ordered."""

    def __init__(self, inventory: GrpcClient) -> None:
        self._inventory = inventory

    async def available(self, sku: str) -> int:
        # A stub is built per attempt, on the channel of the instance the client chose.
        answer = await self._inventory.call(
            lambda channel: InventoryStub(channel).GetAvailability,
            GetAvailabilityRequest(sku=sku),
        )
        return answer.available
