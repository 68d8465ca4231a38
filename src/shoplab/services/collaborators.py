"""Remote implementations of the ports one context declares and another service fulfils.

The microservices counterpart of ``monolith/collaborators.py``: the same ports,
answered over HTTP by the owning service's internal endpoints instead of by an
in-process call joined to the caller's transaction.
"""

from urllib.parse import quote

from shoplab.orders.service_layer.ports import Price
from shoplab.platform.internal_client import InternalClient


class RemotePriceList:
    """Orders' ``PriceList``: prices from the catalog service, asked at placement."""

    def __init__(self, catalog: InternalClient) -> None:
        self._catalog = catalog

    async def prices(self, skus: list[str]) -> dict[str, Price]:
        answer = await self._catalog.get_json("/internal/prices", {"sku": skus})
        return {
            sku: Price(price["unit_price_cents"], price["currency"])
            for sku, price in answer["prices"].items()
        }


class RemotePaymentMethods:
    """Orders' ``PaymentMethods``: asks the payments service.

    Accepted methods are remembered (the test cards do not change while the
    system runs); refused ones are asked again, so the memory stays small.
    """

    def __init__(self, payments: InternalClient) -> None:
        self._payments = payments
        self._accepted: set[str] = set()

    async def accepts(self, method: str) -> bool:
        if method in self._accepted:
            return True
        answer = await self._payments.get_json(f"/internal/payment-methods/{_segment(method)}")
        if answer["accepted"] is True:
            self._accepted.add(method)
            return True
        return False


class RemoteStockAvailability:
    """Catalog's ``StockAvailability``: what the inventory service says can be ordered."""

    def __init__(self, inventory: InternalClient) -> None:
        self._inventory = inventory

    async def available(self, sku: str) -> int:
        answer = await self._inventory.get_json(f"/internal/availability/{_segment(sku)}")
        return int(answer["available"])


def _segment(value: str) -> str:
    """``value`` as one path segment: a ``/`` or ``..`` in user input cannot reach another path."""
    return quote(value, safe="")
