"""Orders' ports answered by other services over gRPC (the microservices mode).

The same ports the monolith answers in-process, joined to the order's transaction; here
the owning service answers (any live instance, under orders' resilience policy for it).
A service that cannot answer becomes ``Unavailable``, a 503 at the edge. Only the
published ``shoplab.*.v1`` contracts are used (``contracts/proto``).
"""

import asyncio

from shoplab.contracts.grpc.catalog.v1.catalog_pb2 import GetPricesRequest
from shoplab.contracts.grpc.catalog.v1.catalog_pb2_grpc import CatalogStub
from shoplab.contracts.grpc.payments.v1.payments_pb2 import AcceptsMethodRequest
from shoplab.contracts.grpc.payments.v1.payments_pb2_grpc import PaymentsStub
from shoplab.orders.domain.model import Price
from shoplab.platform.grpc.client import GrpcClient

# A stub is built per attempt, on the channel of the instance the client chose.


class GrpcPriceList:
    """Orders' ``PriceList``: prices from the catalog service, asked at placement.

    Placements that ask while a question is on its way wait for the next one, which asks
    for all their skus at once: under load one call answers many placements (and stays
    under the catalog's bulkhead), and every answer is still fresh, never a cached price.
    At light load each placement asks alone, as before.
    """

    def __init__(self, catalog: GrpcClient) -> None:
        self._catalog = catalog
        self._waiting: list[tuple[list[str], asyncio.Future[dict[str, Price]]]] = []
        self._asking: asyncio.Task[None] | None = None

    async def prices(self, skus: list[str]) -> dict[str, Price]:
        answer: asyncio.Future[dict[str, Price]] = asyncio.get_running_loop().create_future()
        self._waiting.append((skus, answer))
        if self._asking is None:  # a task of its own: a placement that gives up stops no other
            self._asking = asyncio.create_task(self._ask_for_everyone())
        return await answer

    async def _ask_for_everyone(self) -> None:
        """Ask for every waiting placement's skus, again while more came meanwhile."""
        try:
            while self._waiting:
                batch, self._waiting = self._waiting, []
                wanted = sorted({sku for skus, _ in batch for sku in skus})
                try:
                    prices = await self._ask(wanted)
                except Exception as error:
                    for _, answer in batch:
                        if not answer.done():
                            answer.set_exception(error)
                    continue
                for skus, answer in batch:
                    if not answer.done():
                        answer.set_result({s: prices[s] for s in skus if s in prices})
        finally:
            self._asking = None

    async def _ask(self, skus: list[str]) -> dict[str, Price]:
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
