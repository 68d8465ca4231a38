"""Remote implementations of the ports one context declares and another service fulfils.

The microservices counterpart of ``monolith/collaborators.py``: the same ports,
answered over gRPC by the owning service (balanced over its instances, under the
caller's resilience policy) instead of by an in-process call joined to the caller's
transaction. A service that cannot answer becomes ``Unavailable``, a 503 at the edge.
The ``shoplab.*.v1`` contracts are in ``contracts/proto``.
"""

from shoplab.contracts.grpc.catalog.v1.catalog_pb2 import GetPricesRequest
from shoplab.contracts.grpc.catalog.v1.catalog_pb2_grpc import CatalogStub
from shoplab.contracts.grpc.inventory.v1.inventory_pb2 import GetAvailabilityRequest
from shoplab.contracts.grpc.inventory.v1.inventory_pb2_grpc import InventoryStub
from shoplab.contracts.grpc.payments.v1.payments_pb2 import AcceptsMethodRequest
from shoplab.contracts.grpc.payments.v1.payments_pb2_grpc import PaymentsStub
from shoplab.orders.service_layer.ports import Price
from shoplab.platform.grpc.client import GrpcClient

# A stub is built per attempt, on the channel of the instance the client chose.


class GrpcPriceList:
    """Orders' ``PriceList``: prices from the catalog service, asked at placement."""

    def __init__(self, catalog: GrpcClient) -> None:
        self._catalog = catalog

    async def prices(self, skus: list[str]) -> dict[str, Price]:
        answer = await self._catalog.call(
            lambda channel: CatalogStub(channel).GetPrices, GetPricesRequest(skus=skus)
        )
        return {
            sku: Price(price.unit_price_cents, price.currency)
            for sku, price in answer.prices.items()
        }


class GrpcPaymentMethods:
    """Orders' ``PaymentMethods``: asks the payments service.

    Accepted methods are remembered (the test cards do not change while the
    system runs); refused ones are asked again, so the memory stays small.
    """

    def __init__(self, payments: GrpcClient) -> None:
        self._payments = payments
        self._accepted: set[str] = set()

    async def accepts(self, method: str) -> bool:
        if method in self._accepted:
            return True
        answer = await self._payments.call(
            lambda channel: PaymentsStub(channel).AcceptsMethod,
            AcceptsMethodRequest(method=method),
        )
        if answer.accepted:
            self._accepted.add(method)
        return answer.accepted


class GrpcStockAvailability:
    """Catalog's ``StockAvailability``: what the inventory service says can be ordered."""

    def __init__(self, inventory: GrpcClient) -> None:
        self._inventory = inventory

    async def available(self, sku: str) -> int:
        answer = await self._inventory.call(
            lambda channel: InventoryStub(channel).GetAvailability,
            GetAvailabilityRequest(sku=sku),
        )
        return answer.available
