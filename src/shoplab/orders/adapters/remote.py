"""Orders' ports answered by other services over gRPC (the microservices mode).

The same ports the monolith answers in-process, joined to the order's transaction; here
the owning service answers (any live instance, under orders' resilience policy for it).
A service that cannot answer becomes ``Unavailable``, a 503 at the edge. Only the
published ``shoplab.*.v1`` contracts are used (``contracts/proto``).
"""

from shoplab.contracts.grpc.catalog.v1.catalog_pb2 import GetPricesRequest
from shoplab.contracts.grpc.catalog.v1.catalog_pb2_grpc import CatalogStub
from shoplab.contracts.grpc.payments.v1.payments_pb2 import AcceptsMethodRequest
from shoplab.contracts.grpc.payments.v1.payments_pb2_grpc import PaymentsStub
from shoplab.orders.domain.model import Price
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
